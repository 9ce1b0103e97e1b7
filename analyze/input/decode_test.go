package input

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tcpsnap/tcpsnap/analyze/formats"
	"github.com/tcpsnap/tcpsnap/analyze/formats/windows"
	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
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
		best, _ := formats.Detect(parse.HeadLines(text))
		if best == nil || best.Format != windows.NetstatWindowsFormat {
			t.Fatalf("detect = %v, want netstat-windows", best)
		}
		var l model.Listing
		if err := windows.ParseNetstatWindows(bytes.NewReader(text), &l); err != nil {
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
