-- name: company_insert
INSERT INTO companies (name, slug, created_at) VALUES (:name, :slug, :created_at);

-- name: company_by_id
SELECT * FROM companies WHERE id = :id;

-- name: company_by_slug
SELECT * FROM companies WHERE slug = :slug;

-- name: companies_page
-- By name then id; :search matches name or slug, case-insensitively.
-- slow: a search scans the companies table
SELECT * FROM companies
 WHERE (:search IS NULL OR instr(lower(name), lower(:search)) > 0 OR instr(slug, lower(:search)) > 0)
   AND (:after_name IS NULL OR name > :after_name OR (name = :after_name AND id > :after_id))
 ORDER BY name, id
 LIMIT :limit;

-- name: follow_get
SELECT * FROM company_follows WHERE member_id = :member_id AND company_id = :company_id;

-- name: follow_insert
INSERT INTO company_follows (member_id, company_id, first_followed_at, following)
VALUES (:member_id, :company_id, :now, 1);

-- name: follow_set
UPDATE company_follows SET following = :following WHERE member_id = :member_id AND company_id = :company_id;
