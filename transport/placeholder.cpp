namespace assas::transport {}
