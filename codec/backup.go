package codec

// BackupResult is the answer of POST /admin/backup: where the checkpoint
// was written, its size and how long it took.
type BackupResult struct {
	Dir    string `json:"dir"`
	Bytes  int64  `json:"bytes"`
	TookMS int64  `json:"took_ms"`
}
