package collect

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// BundleFormat is the value of Manifest.Format for bundles this package
// writes. A change that alters the meaning of an existing path bumps it.
const BundleFormat = "tcpsnap.bundle/v1"

// ManifestPath is where the manifest lives, at the root of the bundle.
const ManifestPath = "manifest.json"

// A Manifest describes a bundle: who made it, where, when, and for every
// source what was attempted and how it went. The analyzer reports from it
// what was missing and why.
type Manifest struct {
	Format  string    `json:"format"`  // BundleFormat
	Version string    `json:"version"` // tcpsnap version that wrote it
	Host    Host      `json:"host"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	// Root is true when the collector ran as root (ss -p and /proc/*/fd
	// of other users' processes need it).
	Root     bool     `json:"root"`
	Redacted bool     `json:"redacted,omitempty"`
	Samples  []Sample `json:"samples"`
	Sources  []Item   `json:"sources"`
	Notes    []string `json:"notes,omitempty"` // e.g. "inet_diag not loaded: used /proc instead of ss"
}

// Host identifies the machine.
type Host struct {
	Hostname string  `json:"hostname"`
	OS       string  `json:"os"` // runtime.GOOS values: linux, windows, darwin, freebsd, solaris, aix
	Kernel   string  `json:"kernel,omitempty"`
	Arch     string  `json:"arch,omitempty"`
	Uptime   float64 `json:"uptime_seconds,omitempty"`
}

// A Sample is one pass over the per-instant sources.
type Sample struct {
	Index int       `json:"index"`
	Dir   string    `json:"dir"` // "samples/0"
	Time  time.Time `json:"time"`
	// Monotonic seconds since the first sample, for rates that must not
	// depend on wall-clock steps.
	Elapsed float64 `json:"elapsed_seconds"`
}

// An Item is one source the collector attempted.
type Item struct {
	Path       string  `json:"path"`              // bundle path written ("samples/0/ss-tanpoeim.txt"); "" when nothing was written
	Command    string  `json:"command,omitempty"` // command line run, or
	File       string  `json:"file,omitempty"`    // file copied (e.g. "/proc/net/tcp")
	ExitStatus int     `json:"exit_status"`
	DurationMS float64 `json:"duration_ms"`
	Bytes      int64   `json:"bytes"`
	Truncated  bool    `json:"truncated,omitempty"` // cut at the size cap
	Error      string  `json:"error,omitempty"`     // why it failed or was skipped
	Sample     int     `json:"sample"`              // -1 for host-level sources
}

// maxManifestBytes bounds how much of an untrusted manifest is read.
const maxManifestBytes = 4 << 20

// ReadManifest decodes a manifest, refusing oversized or unknown-format ones.
func ReadManifest(r io.Reader) (*Manifest, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxManifestBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading manifest: %w", err)
	}
	if len(data) > maxManifestBytes {
		return nil, fmt.Errorf("manifest is larger than %d bytes: not a tcpsnap manifest", maxManifestBytes)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("decoding manifest: %w", err)
	}
	if m.Format != BundleFormat {
		return nil, fmt.Errorf("manifest format %q is not %q", m.Format, BundleFormat)
	}
	return &m, nil
}
