namespace assas::ingest {}
