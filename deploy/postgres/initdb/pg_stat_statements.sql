-- Run once by the postgres image when it creates the database (docker-compose.yml mounts this file
-- into /docker-entrypoint-initdb.d/): the view deploy/postgres/queries.yaml reads.  The server must
-- also preload the library (the compose command's -c shared_preload_libraries=pg_stat_statements).
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
