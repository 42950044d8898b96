-- name: company_insert
INSERT INTO companies (name, slug, created_at) VALUES (:name, :slug, :created_at) RETURNING id;

-- name: company_by_id
SELECT * FROM companies WHERE id = :id;

-- name: company_by_slug
SELECT * FROM companies WHERE slug = :slug;

-- name: companies_page
-- By name then id; :search matches name or slug, case-insensitively (ASCII, as SQLite's lower()).
-- slow: a search scans the companies table
SELECT * FROM companies
 WHERE (:search::text IS NULL OR strpos(lower(name), lower(:search::text COLLATE "C")) > 0
        OR strpos(slug, lower(:search::text COLLATE "C")) > 0)
   AND (:after_name::text IS NULL OR name > :after_name::text
        OR (name = :after_name::text AND id > :after_id::bigint))
 ORDER BY name, id
 LIMIT :limit;

-- name: follow_get
SELECT * FROM company_follows WHERE member_id = :member_id AND company_id = :company_id;

-- name: follow_insert
INSERT INTO company_follows (member_id, company_id, first_followed_at, following)
VALUES (:member_id, :company_id, :now, 1);

-- name: follow_set
UPDATE company_follows SET following = :following WHERE member_id = :member_id AND company_id = :company_id;
