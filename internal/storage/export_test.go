package storage

// GroupStats reports the transactions InTxGrouped committed on SQLite and
// the callers they served, and how many callers wait now.
func GroupStats(s *Store) (groups, deliveries, queued int) {
	s.group.mu.Lock()
	defer s.group.mu.Unlock()
	return s.group.groups, s.group.deliveries, len(s.group.queue)
}

// SequenceBatch is how many events one statement of SequenceEvents moves.
const SequenceBatch = sequenceBatch
