package samples_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tcpsnap/tcpsnap/analyze"
)

// chromium finds a Chromium or Chrome binary: $TCPSNAP_CHROMIUM, else
// the usual names ("" when none).
func chromium() string {
	if p := os.Getenv("TCPSNAP_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// A trap is the proxy every browser run uses: it reads each request's
// first line, records where it was going, and closes the connection. A
// page that loads nothing from anywhere sends it nothing.
type trap struct {
	ln      net.Listener
	mu      sync.Mutex
	targets []string // host (or host:port) of each request
}

func newTrap(t *testing.T) *trap {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := &trap{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				line, _ := bufio.NewReader(c).ReadString('\n')
				f := strings.Fields(line) // GET http://host/path HTTP/1.1 or CONNECT host:443 HTTP/1.1
				if len(f) < 2 {
					return // a preconnect that never asked for anything
				}
				target := f[1]
				if u, err := url.Parse(f[1]); err == nil && u.Host != "" {
					target = u.Host
				}
				tr.mu.Lock()
				tr.targets = append(tr.targets, target)
				tr.mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return tr
}

// chromiumOwn are the hosts Chromium itself calls even with background
// networking off (sign-in, network checks, and now and then the push
// messaging channel): they are not the page's. Fonts, CDNs and
// everything else count.
var chromiumOwn = map[string]bool{"accounts.google.com:443": true, "www.google.com:443": true,
	"clients2.google.com": true, "redirector.gvt1.com:443": true, "android.clients.google.com:443": true}

// requests returns the requests the trap saw that are not Chromium's own.
func (tr *trap) requests() []string {
	time.Sleep(200 * time.Millisecond) // let the handlers record
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []string
	for _, tg := range tr.targets {
		if !chromiumOwn[tg] {
			out = append(out, tg)
		}
	}
	return out
}

// browse runs headless Chromium on a file with args, through the trap
// proxy and with every host name unresolvable, and returns its output.
func (tr *trap) browse(t *testing.T, bin, file string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	all := append([]string{
		"--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(), "--no-first-run", "--no-default-browser-check",
		// Chromium's own traffic (updates, safe browsing, metrics) off,
		// so that any connection to the trap is the page's.
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-domain-reliability", "--disable-client-side-phishing-detection",
		"--no-pings", "--disable-breakpad", "--safebrowsing-disable-auto-update",
		"--disable-features=NetworkTimeServiceQuerying,OptimizationHints,Translate,MediaRouter,AutofillServerCommunication",
		// Every request goes to the trap; no host name resolves (but the
		// trap's address), so nothing can go around it.
		"--proxy-server=" + tr.ln.Addr().String(), "--proxy-bypass-list=<-loopback>",
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
	}, args...)
	all = append(all, "file://"+file)
	// Chromium now and then crashes on a loaded machine (a segmentation
	// fault while it starts): a crash is tried again, twice; an error it
	// reports is not.
	for try := 1; ; try++ {
		cmd := exec.CommandContext(ctx, bin, all...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		if err == nil {
			return stdout.Bytes()
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) && !exit.Exited() && try < 3 && ctx.Err() == nil {
			t.Logf("%s %s: %v (try %d); again", bin, strings.Join(args, " "), err, try)
			continue
		}
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, stderr.String())
	}
}

var (
	svgRE      = regexp.MustCompile(`(?s)<svg class="chart" id="([^"]+)" data-bars="(\d+)".*?</svg>`)
	barRE      = regexp.MustCompile(`<rect data-bar`)
	tagStripRE = regexp.MustCompile(`(?s)<[^>]*>`)
)

// expectedBars is how many bars each chart of a report draws.
func expectedBars(rep *analyze.Report) map[string]int {
	nonzero := func(m map[string]int) int {
		n := 0
		for _, v := range m {
			if v > 0 {
				n++
			}
		}
		return n
	}
	want := map[string]int{}
	if n := nonzero(rep.Summary.States); n > 0 {
		want["chart-states"] = n
	}
	for _, e := range rep.Top.Processes {
		want["chart-top-processes"] += nonzero(e.States)
	}
	for _, e := range rep.Top.Ports {
		want["chart-top-ports"] += nonzero(e.States)
	}
	for _, e := range rep.Top.Destinations {
		want["chart-top-destinations"] += nonzero(e.States)
	}
	if len(rep.Timeline) > 1 {
		for _, s := range rep.Timeline {
			want["chart-timeline"] += nonzero(s.States)
		}
	}
	return want
}

// TestHTMLBrowser opens the HTML reports of two samples in headless
// Chromium: the findings' titles are on the page as text, each chart
// has its bars, nothing is wider than a phone's screen, and the page
// makes no request (a proxy that counts connections sees none). The
// screenshots (a phone and a desktop) go to $TCPSNAP_ARTIFACTS when set.
// .ci/run installs Chromium; without it the test is skipped.
func TestHTMLBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	bin := chromium()
	if bin == "" {
		t.Skip("no chromium binary on PATH (apt-get install chromium, or set TCPSNAP_CHROMIUM); .ci/run installs it")
	}
	shots := os.Getenv("TCPSNAP_ARTIFACTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	// The trap catches a page that does load something: a control.
	t.Run("control", func(t *testing.T) {
		t.Parallel()
		tr := newTrap(t)
		file := filepath.Join(t.TempDir(), "loads.html")
		page := `<!DOCTYPE html><title>loads</title><img src="http://tcpsnap.invalid/x.png"><p>x</p>`
		if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
			t.Fatal(err)
		}
		tr.browse(t, bin, file, "--dump-dom")
		if got := tr.requests(); !slices.Contains(got, "tcpsnap.invalid") {
			t.Errorf("a page with an external image: the trap proxy saw %q, not its request; the check of the reports proves nothing", got)
		}
	})

	rs := compileRules(t)
	for _, name := range []string{"closewait-leak", "closewait-two-samples"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			tr := newTrap(t)
			rep := analyzeInputs(t, rs, name)
			var page bytes.Buffer
			if err := analyze.WriteHTML(&page, rep); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			file := filepath.Join(dir, name+".html")
			if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			start := time.Now()

			dom := string(tr.browse(t, bin, file, "--window-size=1280,900", "--dump-dom"))
			if !strings.Contains(dom, `id="findings"`) {
				t.Fatalf("the dumped DOM has no findings section:\n%.2000s", dom)
			}

			// The findings' titles are on the page, as text.
			text := strings.Join(strings.Fields(html.UnescapeString(tagStripRE.ReplaceAllString(dom, " "))), " ")
			if len(rep.Findings) == 0 {
				t.Fatal("the sample has no findings")
			}
			for _, f := range rep.Findings {
				if title := strings.Join(strings.Fields(f.Title), " "); !strings.Contains(text, title) {
					t.Errorf("the page does not show the title %q", title)
				}
			}

			// Each chart has its bars.
			want := expectedBars(rep)
			got := map[string]int{}
			for _, m := range svgRE.FindAllStringSubmatch(dom, -1) {
				bars := len(barRE.FindAllString(m[0], -1))
				if declared, _ := strconv.Atoi(m[2]); declared != bars {
					t.Errorf("%s: data-bars=%d but %d bars", m[1], declared, bars)
				}
				got[m[1]] = bars
			}
			for id, n := range want {
				if got[id] != n {
					t.Errorf("%s: %d bars, want %d", id, got[id], n)
				}
			}
			for id := range got {
				if _, ok := want[id]; !ok {
					t.Errorf("unexpected chart %s", id)
				}
			}
			if len(rep.Timeline) > 1 && got["chart-timeline"] == 0 {
				t.Error("several samples but no timeline chart")
			}

			// Nothing wider than the screen. Headless Chromium lays a
			// --dump-dom page out at least 500 px wide, so a frame of the
			// width holds a copy of the page (the report itself has no
			// script) that measures itself; the frame's parent reports it.
			measured := strings.Replace(page.String(),
				`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`, "", 1)
			measured = strings.Replace(measured, "</body>", `<script>
var d=document.documentElement, wide=[];
document.querySelectorAll("main *").forEach(function(e){var r=e.getBoundingClientRect(); if(r.right>d.clientWidth+0.5) wide.push(e.tagName+(e.id?"#"+e.id:""))});
document.body.setAttribute("data-measured", d.scrollWidth+" "+d.clientWidth+" "+wide.slice(0,5).join(","));
</script></body>`, 1)
			mfile := filepath.Join(dir, name+"-measure.html")
			if err := os.WriteFile(mfile, []byte(measured), 0o644); err != nil {
				t.Fatal(err)
			}
			for _, width := range []int{360, 412, 1280} {
				frame := filepath.Join(dir, fmt.Sprintf("%s-frame-%d.html", name, width))
				fpage := fmt.Sprintf(`<!DOCTYPE html><body style="margin:0"><iframe id="f" src="%s" style="border:0;width:%dpx;height:900px"></iframe>
<script>document.getElementById("f").onload=function(){document.body.setAttribute("data-measured",this.contentDocument.body.getAttribute("data-measured"))}</script>`,
					filepath.Base(mfile), width)
				if err := os.WriteFile(frame, []byte(fpage), 0o644); err != nil {
					t.Fatal(err)
				}
				mdom := string(tr.browse(t, bin, frame, "--window-size=1400,900", "--allow-file-access-from-files", "--dump-dom"))
				m := regexp.MustCompile(`<body[^>]*data-measured="(\d+) (\d+) ?([^"]*)"`).FindStringSubmatch(mdom)
				if m == nil {
					t.Fatalf("width %d: the page did not measure itself:\n%.1000s", width, mdom)
				}
				scroll, _ := strconv.Atoi(m[1])
				client, _ := strconv.Atoi(m[2])
				if client != width || scroll > client || m[3] != "" {
					t.Errorf("width %d: the page is %d px wide in a %d px frame; too wide: %s", width, scroll, client, m[3])
				}
			}

			// Screenshots: a phone and a desktop.
			for _, s := range []struct{ suffix, size string }{{"phone", "412,915"}, {"desktop", "1280,900"}} {
				png := filepath.Join(shots, name+"-"+s.suffix+".png")
				tr.browse(t, bin, file, "--window-size="+s.size, "--screenshot="+png)
				data, err := os.ReadFile(png)
				if err != nil {
					t.Fatalf("no screenshot: %v", err)
				}
				if !bytes.HasPrefix(data, []byte("\x89PNG")) || len(data) < 10_000 {
					t.Errorf("%s: not a PNG of a page (%d bytes)", png, len(data))
				}
			}
			if got := tr.requests(); len(got) > 0 {
				t.Errorf("the report requested %q through the trap proxy: it loads something", got)
			}
			t.Logf("%s: 6 browser runs in %.1fs; screenshots %s", name, time.Since(start).Seconds(), filepath.Join(shots, name+"-{phone,desktop}.png"))
		})
	}
}
