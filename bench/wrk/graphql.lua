-- wrk script for every GraphQL scenario. BENCH_DATA names a text file of lines "T <token>" (readers)
-- and "P <token> <inviteeId>" (one send each); BENCH_MODE is read, send or import; BENCH_BODY is the
-- JSON body for read mode. Prints one BENCH_JSON line when done.
local data = { tokens = {}, pairs = {} }
for line in io.lines(os.getenv("BENCH_DATA")) do
  local kind, a, b = line:match("^(%a) (%S+) ?(%S*)$")
  if kind == "T" then table.insert(data.tokens, a) elseif kind == "P" then table.insert(data.pairs, { a, b }) end
end
local mode = os.getenv("BENCH_MODE")
local read_body = os.getenv("BENCH_BODY")
local threads = {}
-- Globals, so done() can read them from each thread.
counter, bad, stride = 0, 0, 1

function setup(thread)
  thread:set("tid", #threads)
  thread:set("nthreads", 0)
  table.insert(threads, thread)
end

function init(args)
  stride = tonumber(os.getenv("BENCH_THREADS"))
  -- BENCH_OFFSET moves past the pairs and contacts earlier runs used.
  counter = tid + tonumber(os.getenv("BENCH_OFFSET") or "0")
end

local SEND = '{"query":"mutation($i: SendInvitationInput!) { sendInvitation(input: $i) { invitation { id } userErrors { code } } }","variables":{"i":{"inviteeId":"%s"}}}'
local IMPORT = '{"query":"mutation($i: ImportContactsInput!) { importContacts(input: $i) { imported userErrors { code } } }","variables":{"i":{"contacts":[%s]}}}'

function request()
  local token, body
  if mode == "send" then
    local pair = data.pairs[(counter % #data.pairs) + 1]
    token, body = pair[1], string.format(SEND, pair[2])
  elseif mode == "import" then
    token = data.tokens[(counter % #data.tokens) + 1]
    local contacts = {}
    for j = 1, 10 do
      contacts[j] = string.format('{"email":"c%d-%d-%d@contacts.example"}', tid, counter, j)
    end
    body = string.format(IMPORT, table.concat(contacts, ","))
  else
    token, body = data.tokens[(counter % #data.tokens) + 1], read_body
  end
  counter = counter + stride
  return wrk.format("POST", "/graphql",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token }, body)
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) or string.find(body, '"code"', 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local errors, last = 0, 0
  for _, t in ipairs(threads) do
    errors = errors + (t:get("bad") or 0)
    last = math.max(last, t:get("counter") or 0)
  end
  io.write(string.format('BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "bad": %d, "last": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), errors, last,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status))
end
