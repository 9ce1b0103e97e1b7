package analyze

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
	xunicode "golang.org/x/text/encoding/unicode"
)

// germanNetstat is a UTF-8 German netstat -ano excerpt with CRLF endings;
// the encoding tests re-encode it byte for byte with x/text encoders.
const germanNetstat = "\r\nAktive Verbindungen\r\n\r\n" +
	"  Proto  Lokale Adresse         Remoteadresse          Status           PID\r\n" +
	"  TCP    0.0.0.0:135            0.0.0.0:0              ABHÖREN          1128\r\n" +
	"  TCP    192.0.2.5:49711        198.51.100.1:443       HERGESTELLT      4444\r\n" +
	"  TCP    192.0.2.5:49712        198.51.100.1:443       SCHLIESSEN_WARTEN 4444\r\n"

func encode(t *testing.T, enc encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeText(t *testing.T) {
	russian := "Активные подключения\r\n\r\n  Имя    Локальный адрес        Внешний адрес          Состояние\r\n" +
		"  TCP    0.0.0.0:135            0.0.0.0:0              LISTENING\r\n"
	chinese := "活动连接\r\n\r\n  协议  本地地址                外部地址              状态             PID\r\n" +
		"  TCP    127.0.0.1:8411         127.0.0.1:58296        TIME_WAIT       0\r\n"
	french := "Connexions actives\r\n\r\n  Proto  Adresse locale         Adresse distante       État\r\n"
	utf16le := xunicode.UTF16(xunicode.LittleEndian, xunicode.IgnoreBOM)
	tests := []struct {
		name, want, enc string
		data            []byte
	}{
		{"utf8", germanNetstat, EncUTF8, []byte(germanNetstat)},
		{"utf8-bom", germanNetstat, EncUTF8BOM, append([]byte{0xEF, 0xBB, 0xBF}, germanNetstat...)},
		{"utf16le-bom", germanNetstat, EncUTF16LEBOM, encode(t, xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM), germanNetstat)},
		{"utf16be-bom", germanNetstat, EncUTF16BEBOM, encode(t, xunicode.UTF16(xunicode.BigEndian, xunicode.UseBOM), germanNetstat)},
		{"utf16le-nobom", germanNetstat, EncUTF16LE, encode(t, utf16le, germanNetstat)},
		{"cp850", germanNetstat, EncCP850, encode(t, charmap.CodePage850, germanNetstat)},
		{"cp850-french", french, EncCP850, encode(t, charmap.CodePage850, french)},
		{"windows1252-french", french, EncWindows1252, encode(t, charmap.Windows1252, french)},
		{"windows1252-german", germanNetstat, EncWindows1252, encode(t, charmap.Windows1252, germanNetstat)},
		{"cp866", russian, EncCP866, encode(t, charmap.CodePage866, russian)},
		{"gbk", chinese, EncGBK, encode(t, simplifiedchinese.GBK, chinese)},
		{"nul-left-over", "ab\r\n", EncUTF8, []byte("a\x00b\r\n")},
		{"empty", "", EncUTF8, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, enc, err := DecodeText(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if enc != tt.enc {
				t.Errorf("encoding = %s, want %s", enc, tt.enc)
			}
			if string(got) != tt.want {
				t.Errorf("text = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDecodeThenParse runs the German capture through each Windows
// encoding and the netstat-windows parser: same sockets every time.
func TestDecodeThenParse(t *testing.T) {
	var want string
	for _, enc := range []encoding.Encoding{encoding.Nop, charmap.CodePage850,
		xunicode.UTF16(xunicode.LittleEndian, xunicode.UseBOM), xunicode.UTF16(xunicode.LittleEndian, xunicode.IgnoreBOM)} {
		text, _, err := DecodeText(encode(t, enc, germanNetstat))
		if err != nil {
			t.Fatal(err)
		}
		best, _ := detect(headLines(text))
		if best == nil || best.Format != netstatWindowsFormat {
			t.Fatalf("detect = %v, want netstat-windows", best)
		}
		var l Listing
		if err := parseNetstatWindows(bytes.NewReader(text), &l); err != nil {
			t.Fatal(err)
		}
		got := l.String()
		if !strings.Contains(got, "LISTEN 0.0.0.0:135") || !strings.Contains(got, "CLOSE_WAIT") || len(l.Problems) != 0 {
			t.Errorf("unexpected listing:\n%s", got)
		}
		if want == "" {
			want = got
		} else if got != want {
			t.Errorf("listing differs by encoding:\n%s\nwant\n%s", got, want)
		}
	}
}

// TestWindowsDetectNegatives: inputs the three formats must not claim.
func TestWindowsDetectNegatives(t *testing.T) {
	inputs := map[string]string{
		"netstat -r":    "===========================================================================\nInterface List\n  9...00 15 5d 01 02 03 ......Microsoft Hyper-V Network Adapter\n===========================================================================\n\nIPv4 Route Table\n===========================================================================\nActive Routes:\nNetwork Destination        Netmask          Gateway       Interface  Metric\n          0.0.0.0          0.0.0.0      192.0.2.1     192.0.2.10     25\n        127.0.0.0        255.0.0.0         On-link         127.0.0.1    331\n",
		"netstat -s":    "\nIPv4 Statistics\n\n  Packets Received                   = 1234567\n  Received Header Errors             = 0\n\nTCP Statistics for IPv4\n\n  Active Opens                        = 12345\n  Passive Opens                       = 678\n  Current Connections                 = 42\n",
		"netstat -e":    "Interface Statistics\n\n                           Received            Sent\n\nBytes                    1234567890       987654321\nUnicast packets            12345678         8765432\n",
		"linux netstat": "Active Internet connections (servers and established)\nProto Recv-Q Send-Q Local Address           Foreign Address         State\ntcp        0      0 0.0.0.0:22              0.0.0.0:*               LISTEN\ntcp6       0      0 :::22                   :::*                    LISTEN\n",
		"ss":            "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\nLISTEN 0      128          0.0.0.0:22        0.0.0.0:*\nESTAB  0      0        192.0.2.1:22   198.51.100.2:50000\n",
		"bsd netstat":   "Active Internet connections (including servers)\nProto Recv-Q Send-Q  Local Address          Foreign Address        (state)\ntcp4       0      0  192.0.2.1.22           198.51.100.2.50000     ESTABLISHED\ntcp46      0      0  *.22                   *.*                    LISTEN\n",
		"solaris":       "\nTCP: IPv4\n   Local Address        Remote Address    Swind Send-Q Rwind Recv-Q    State\n-------------------- -------------------- ----- ------ ----- ------ -----------\n192.0.2.1.22         198.51.100.2.50000   64128      0 128872      0 ESTABLISHED\n",
		"proc net tcp":  "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0\n",
	}
	for name, in := range inputs {
		head := headLines([]byte(in))
		for _, f := range []*Format{netstatWindowsFormat, lsofFormat, getNetTCPFormat} {
			if sc := f.Detect(head); sc != 0 {
				t.Errorf("%s: %s scores %d, want 0", name, f.Name, sc)
			}
		}
	}
	// Each parser refuses text that is not its format at all.
	for _, f := range []*Format{netstatWindowsFormat, lsofFormat, getNetTCPFormat} {
		var l Listing
		if err := f.Parse(strings.NewReader(inputs["netstat -s"]), &l); err == nil {
			t.Errorf("%s accepted netstat -s output", f.Name)
		}
	}
}

// TestWindowsFormatsDontClaimEachOther: every fixture of one format is
// detected as that format (TestFormatGoldens) and scores 0 in the others.
func TestWindowsFormatsDontClaimEachOther(t *testing.T) {
	ours := []*Format{netstatWindowsFormat, lsofFormat, getNetTCPFormat}
	for _, f := range ours {
		dir := "testdata/" + f.Name
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".txt") {
				continue
			}
			data, err := os.ReadFile(dir + "/" + e.Name())
			if err != nil {
				t.Fatal(err)
			}
			head := headLines(data)
			for _, g := range ours {
				if g != f && g.Detect(head) != 0 {
					t.Errorf("%s/%s: %s scores %d", f.Name, e.Name(), g.Name, g.Detect(head))
				}
			}
		}
	}
}

func FuzzParseNetstatWindows(f *testing.F) { fuzzFormat(f, "netstat-windows") }
func FuzzParseLsof(f *testing.F)           { fuzzFormat(f, "lsof") }
func FuzzParseGetNetTCP(f *testing.F)      { fuzzFormat(f, "get-nettcpconnection") }

func FuzzDecodeText(f *testing.F) {
	f.Add([]byte(germanNetstat))
	f.Add([]byte{0xFF, 0xFE, 'a', 0, 'b'})
	f.Add([]byte{0xFE, 0xFF, 0, 'a', 0xD8})
	f.Add([]byte("ABH\x99REN\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, enc, err := DecodeText(data)
		if err != nil {
			t.Fatal(err)
		}
		if enc == "" {
			t.Fatal("no encoding name")
		}
		if bytes.IndexByte(out, 0) >= 0 {
			t.Fatalf("NUL left in output (%s)", enc)
		}
		if enc != EncUTF8 && enc != EncUTF8BOM {
			// Decoders emit UTF-8 (with U+FFFD for bad input).
			if !utf8Valid(out) {
				t.Fatalf("%s output is not UTF-8", enc)
			}
		}
	})
}

func utf8Valid(b []byte) bool { return strings.ToValidUTF8(string(b), "") == string(b) }

func FuzzParseNetshDynamicPort(f *testing.F) { fuzzFormat(f, "netsh-dynamicport") }
func FuzzParseWinReg(f *testing.F)           { fuzzFormat(f, "windows-registry") }
