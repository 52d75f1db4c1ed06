package incident

// UsePerStatementIngest makes s look up and write each alert with its own
// statements instead of batching a delivery's, for tests that compare both.
func UsePerStatementIngest(s *Service) { s.perStatement = true }
