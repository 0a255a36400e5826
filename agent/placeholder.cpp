namespace assas::agent {}
