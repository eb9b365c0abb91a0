-- Run once by the postgres image, on an empty data volume (docker-entrypoint-initdb.d).
-- Each service owns its database; POSTGRES_USER (chiso) owns all three.
CREATE DATABASE chiso_gateway OWNER chiso;
CREATE DATABASE chiso_ingest OWNER chiso;
CREATE DATABASE chiso_indicators OWNER chiso;
