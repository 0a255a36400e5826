namespace assas::collectors {}
