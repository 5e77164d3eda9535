package query

import "sync"

// sourceCache keeps data source metadata, which is never rewritten under an
// id (see Service.source).
type sourceCache struct {
	mu sync.RWMutex
	m  map[uint32]*SourceMetadata
}

func (c *sourceCache) get(sid uint32) (*SourceMetadata, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.m[sid]
	return m, ok
}

func (c *sourceCache) put(sid uint32, m *SourceMetadata) {
	c.mu.Lock()
	c.m[sid] = m
	c.mu.Unlock()
}
