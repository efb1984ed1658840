-- Run by the postgres image once, when it initialises an empty data directory (docker-compose.yml).
-- The portal's runtime role: it logs in and owns nothing; web grants it what it needs after
-- migrating as the owner (manage.py db_grant_runtime_role partnerzone_app). Change the password
-- here and in DATABASE_URL for anything but a local trial.
CREATE ROLE partnerzone_app LOGIN PASSWORD 'partnerzone_app';
