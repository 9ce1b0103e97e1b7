package fleet

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"
)

// HostRow is one row of hosts.parquet: a host, its counts per canonical
// state in the latest sample, its findings by severity, and the error
// that stopped it (then everything else is zero).
type HostRow struct {
	Host        string `parquet:"host"`
	Path        string `parquet:"path"`
	OS          string `parquet:"os"`
	Kernel      string `parquet:"kernel"`
	Sockets     int64  `parquet:"sockets"`
	Established int64  `parquet:"established"`
	SynSent     int64  `parquet:"syn_sent"`
	SynRecv     int64  `parquet:"syn_recv"`
	FinWait1    int64  `parquet:"fin_wait1"`
	FinWait2    int64  `parquet:"fin_wait2"`
	TimeWait    int64  `parquet:"time_wait"`
	Close       int64  `parquet:"close"`
	CloseWait   int64  `parquet:"close_wait"`
	LastAck     int64  `parquet:"last_ack"`
	Listen      int64  `parquet:"listen"`
	Closing     int64  `parquet:"closing"`
	Bound       int64  `parquet:"bound"`
	Idle        int64  `parquet:"idle"`
	Unknown     int64  `parquet:"unknown"`
	Critical    int64  `parquet:"critical"`
	Warning     int64  `parquet:"warning"`
	Info        int64  `parquet:"info"`
	Error       string `parquet:"error"`
}

// FindingRow is one row of findings.parquet.
type FindingRow struct {
	Host         string `parquet:"host"`
	Path         string `parquet:"path"`
	Rule         string `parquet:"rule"`
	Severity     string `parquet:"severity"`
	Title        string `parquet:"title"`
	Kind         string `parquet:"kind"`
	Process      string `parquet:"process"`
	PID          int64  `parquet:"pid"`
	LocalAddress string `parquet:"local_address"`
	LocalPort    int64  `parquet:"local_port"`
	Remote       string `parquet:"remote"`
	Sockets      int64  `parquet:"sockets"`
	Evidence     string `parquet:"evidence"` // the evidence object as JSON text
	// The evidence values most rules give, as typed columns (null when the
	// rule gives none, or -1: unknown); the rest stay in Evidence.
	Established *int64 `parquet:"established,optional"`
	TimeWait    *int64 `parquet:"time_wait,optional"`
	CloseWait   *int64 `parquet:"close_wait,optional"`
	FinWait2    *int64 `parquet:"fin_wait2,optional"`
	SynSent     *int64 `parquet:"syn_sent,optional"`
	SynRecv     *int64 `parquet:"syn_recv,optional"`
	AcceptQueue *int64 `parquet:"accept_queue,optional"`
	Backlog     *int64 `parquet:"backlog,optional"`
	PortsUsed   *int64 `parquet:"ports_used,optional"`
	PortRange   *int64 `parquet:"port_range,optional"`
}

// typedEvidence fills the typed evidence columns from the evidence JSON.
func (r *FindingRow) typedEvidence() {
	var ev map[string]any
	if json.Unmarshal([]byte(r.Evidence), &ev) != nil {
		return
	}
	for name, dst := range map[string]**int64{
		"established": &r.Established, "time_wait": &r.TimeWait, "close_wait": &r.CloseWait,
		"fin_wait2": &r.FinWait2, "syn_sent": &r.SynSent, "syn_recv": &r.SynRecv,
		"accept_queue": &r.AcceptQueue, "backlog": &r.Backlog, "ports_used": &r.PortsUsed, "port_range": &r.PortRange,
	} {
		if v, ok := ev[name].(float64); ok && v >= 0 && v == float64(int64(v)) {
			n := int64(v)
			*dst = &n
		}
	}
}

// HostRowOf is a host's row.
func HostRowOf(h *Host) HostRow {
	st := func(s string) int64 { return int64(h.States[s]) }
	return HostRow{Host: h.Host, Path: h.Path, OS: h.OS, Kernel: h.Kernel, Sockets: int64(h.Sockets),
		Established: st("ESTABLISHED"), SynSent: st("SYN_SENT"), SynRecv: st("SYN_RECV"),
		FinWait1: st("FIN_WAIT1"), FinWait2: st("FIN_WAIT2"), TimeWait: st("TIME_WAIT"), Close: st("CLOSE"),
		CloseWait: st("CLOSE_WAIT"), LastAck: st("LAST_ACK"), Listen: st("LISTEN"), Closing: st("CLOSING"),
		Bound: st("BOUND"), Idle: st("IDLE"), Unknown: st("UNKNOWN"),
		Critical: int64(h.Critical), Warning: int64(h.Warning), Info: int64(h.Info), Error: h.Error}
}

// parquetBatch is how many rows go to the writer at a time.
const parquetBatch = 1024

// WriteHostsParquet writes hosts.parquet: one row per host, in order.
func (f *Fleet) WriteHostsParquet(w io.Writer) error {
	pw := parquet.NewGenericWriter[HostRow](w, parquet.Compression(&parquet.Zstd))
	batch := make([]HostRow, 0, parquetBatch)
	for _, h := range f.Hosts {
		batch = append(batch, HostRowOf(h))
		if len(batch) == parquetBatch {
			if _, err := pw.Write(batch); err != nil {
				return fmt.Errorf("writing hosts.parquet: %w", err)
			}
			batch = batch[:0]
		}
	}
	if _, err := pw.Write(batch); err != nil {
		return fmt.Errorf("writing hosts.parquet: %w", err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("writing hosts.parquet: %w", err)
	}
	return nil
}

// WriteFindingsParquet writes findings.parquet: one row per finding,
// hosts in order, each host's findings in its report's order.
func (f *Fleet) WriteFindingsParquet(w io.Writer) error {
	pw := parquet.NewGenericWriter[FindingRow](w, parquet.Compression(&parquet.Zstd))
	batch := make([]FindingRow, 0, parquetBatch)
	for _, h := range f.Hosts {
		for _, fd := range h.Findings {
			s := fd.Subject
			row := FindingRow{Host: h.Host, Path: h.Path, Rule: fd.Rule, Severity: fd.Severity, Title: fd.Title,
				Kind: s.Kind, Process: s.Process, PID: int64(s.PID), LocalAddress: s.LocalAddress, LocalPort: int64(s.LocalPort),
				Remote: s.Remote, Sockets: fd.Sockets, Evidence: fd.Evidence}
			row.typedEvidence()
			batch = append(batch, row)
			if len(batch) == parquetBatch {
				if _, err := pw.Write(batch); err != nil {
					return fmt.Errorf("writing findings.parquet: %w", err)
				}
				batch = batch[:0]
			}
		}
	}
	if _, err := pw.Write(batch); err != nil {
		return fmt.Errorf("writing findings.parquet: %w", err)
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("writing findings.parquet: %w", err)
	}
	return nil
}

// WriteDir writes the fleet's files into dir (created if missing):
// hosts.ndjson (the reports, copied from spill; skipped when spill is
// nil), summary.json, hosts.parquet and findings.parquet. Each file is
// written under a temporary name and renamed when complete.
func WriteDir(dir string, f *Fleet, s *Summary, spill io.ReaderAt) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(name string, fn func(io.Writer) error) error {
		final := filepath.Join(dir, name)
		tmp, err := os.CreateTemp(dir, "."+name+".*")
		if err != nil {
			return err
		}
		bw := bufio.NewWriterSize(tmp, 1<<20)
		err = fn(bw)
		if err == nil {
			err = bw.Flush()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Chmod(tmp.Name(), 0o644)
		}
		if err == nil {
			err = os.Rename(tmp.Name(), final)
		}
		if err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("writing %s: %w", final, err)
		}
		return nil
	}
	if spill != nil {
		if err := write("hosts.ndjson", func(w io.Writer) error { return f.WriteNDJSON(w, spill) }); err != nil {
			return err
		}
	}
	if err := write("summary.json", func(w io.Writer) error { return WriteJSON(w, s) }); err != nil {
		return err
	}
	if err := write("hosts.parquet", f.WriteHostsParquet); err != nil {
		return err
	}
	return write("findings.parquet", f.WriteFindingsParquet)
}
