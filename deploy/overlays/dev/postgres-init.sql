-- Development only: one role and one database per service, as in production.
-- The passwords match the xciss-<service>-db secrets in kustomization.yaml.
CREATE ROLE registry LOGIN PASSWORD 'dev-registry';
CREATE DATABASE registry OWNER registry;
CREATE ROLE vouchers LOGIN PASSWORD 'dev-vouchers';
CREATE DATABASE vouchers OWNER vouchers;
CREATE ROLE evaluation LOGIN PASSWORD 'dev-evaluation';
CREATE DATABASE evaluation OWNER evaluation;
CREATE ROLE payments LOGIN PASSWORD 'dev-payments';
CREATE DATABASE payments OWNER payments;
-- no service may connect to another service's database
REVOKE CONNECT ON DATABASE registry, vouchers, evaluation, payments FROM PUBLIC;
