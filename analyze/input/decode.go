package input

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
	xunicode "golang.org/x/text/encoding/unicode"
)

// Encoding names DecodeText reports.
const (
	EncUTF8        = "utf-8"
	EncUTF8BOM     = "utf-8-bom"
	EncUTF16LEBOM  = "utf-16le-bom"
	EncUTF16BEBOM  = "utf-16be-bom"
	EncUTF16LE     = "utf-16le" // no BOM, recognised by NUL interleaving
	EncUTF16BE     = "utf-16be" // no BOM, recognised by NUL interleaving
	EncCP850       = "cp850"
	EncCP437       = "cp437"
	EncCP866       = "cp866"
	EncWindows1252 = "windows-1252"
	EncGBK         = "cp936"
	EncShiftJIS    = "cp932"
)

// DecodeText returns data as UTF-8 text and the name of the encoding it
// was read as. Listings captured on Windows arrive as UTF-16 (PowerShell
// 5.x redirection, with a BOM; sometimes without), as the console's OEM
// code page (cmd.exe redirection) or as UTF-8 (re-pasted into tickets);
// see formats.md §0.7.
//
// Order: BOMs; UTF-16 by NUL interleaving; valid UTF-8; otherwise the
// legacy code page whose decoding looks most like text (cp850 unless
// another candidate scores better). NUL bytes left in the result are
// removed. Line endings are left alone (LineScanner ends lines at "\n",
// "\r\n" and a lone "\r").
// The error is always nil today; it is there so that a future decoder
// that can fail does not change the signature.
func DecodeText(data []byte) ([]byte, string, error) {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return stripNUL(data[3:]), EncUTF8BOM, nil
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return decodeWith(xunicode.UTF16(xunicode.LittleEndian, xunicode.IgnoreBOM), data[2:]), EncUTF16LEBOM, nil
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return decodeWith(xunicode.UTF16(xunicode.BigEndian, xunicode.IgnoreBOM), data[2:]), EncUTF16BEBOM, nil
	}
	if le, be := nulInterleave(data); le {
		return decodeWith(xunicode.UTF16(xunicode.LittleEndian, xunicode.IgnoreBOM), data), EncUTF16LE, nil
	} else if be {
		return decodeWith(xunicode.UTF16(xunicode.BigEndian, xunicode.IgnoreBOM), data), EncUTF16BE, nil
	}
	if utf8.Valid(data) {
		return stripNUL(data), EncUTF8, nil
	}
	return decodeLegacy(data)
}

// nulInterleave reports whether data looks like UTF-16 without a BOM:
// mostly ASCII text where every other byte is NUL. It looks at the first
// 4 KiB; at least 8 code units and 70% of them must have the NUL on one
// side and (almost) none on the other.
func nulInterleave(data []byte) (le, be bool) {
	even, odd, n := nulCounts(data)
	if n < 8 {
		return false, false
	}
	switch {
	case odd*10 >= n*7 && even*10 <= n:
		return true, false
	case even*10 >= n*7 && odd*10 <= n:
		return false, true
	}
	return false, false
}

// nulCounts counts NUL bytes at even and odd offsets of the first 4 KiB;
// n is the number of byte pairs looked at.
func nulCounts(data []byte) (even, odd, n int) {
	if len(data) > 4096 {
		data = data[:4096]
	}
	n = len(data) / 2
	for i := 0; i+1 < len(data); i += 2 {
		if data[i] == 0 {
			even++
		}
		if data[i+1] == 0 {
			odd++
		}
	}
	return even, odd, n
}

// LooksBinary reports a head that is no text in any encoding DecodeText
// reads: NUL bytes on both even and odd offsets (UTF-16 has them on one
// side only), or mostly control characters. Such input is refused from
// its first bytes instead of being read up to the decoding limit.
func LooksBinary(head []byte) bool {
	if len(head) > 4096 {
		head = head[:4096]
	}
	if len(head) < 16 {
		return false
	}
	even, odd, n := nulCounts(head)
	if even*10 > n && odd*10 > n {
		return true
	}
	ctl := 0
	for _, c := range head {
		if c != 0 && c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != 0x1b {
			ctl++
		}
	}
	return ctl*3 > len(head)
}

func decodeWith(enc encoding.Encoding, data []byte) []byte {
	out, err := enc.NewDecoder().Bytes(data)
	if err != nil {
		// The x/text UTF-16 decoder replaces bad input with U+FFFD instead
		// of failing; keep whatever came out if it ever does fail.
		return stripNUL(out)
	}
	return stripNUL(out)
}

func stripNUL(b []byte) []byte {
	if bytes.IndexByte(b, 0) < 0 {
		return b
	}
	return bytes.ReplaceAll(b, []byte{0}, nil)
}

// A legacyCandidate is one code page the heuristic may pick.
type legacyCandidate struct {
	name string
	enc  encoding.Encoding
}

// legacyCandidates are tried in order; on a tie the earlier wins, so cp850
// (the OEM code page of Western European Windows consoles, where the
// translated German and French netstat headers come from) is the default.
// cp437 (US OEM) decodes 0x80-0xAF like cp850 and differs in the upper
// half (box drawing and Greek instead of accented capitals), so it wins
// only when the text is made of those. cp866 is the Russian OEM page;
// windows-1252 is what PowerShell's Out-File -Encoding Default and
// Notepad "ANSI" write. cp936 (GBK) and cp932 (Shift-JIS) are cheap to
// offer through x/text and win only on double-byte text that decodes to
// runs of Han/Kana without errors.
var legacyCandidates = []legacyCandidate{
	{EncCP850, charmap.CodePage850},
	{EncCP437, charmap.CodePage437},
	{EncCP866, charmap.CodePage866},
	{EncWindows1252, charmap.Windows1252},
	{EncGBK, simplifiedchinese.GBK},
	{EncShiftJIS, japanese.ShiftJIS},
}

// legacyMarkers are words of localised netstat titles, headers and states
// (formats.md §5.4) that contain non-ASCII letters. A candidate whose
// decoding contains one gets a large bonus: this is what tells cp850 from
// windows-1252 on an upper-case word like ABHÖREN, where both decodings
// are letters.
var legacyMarkers = []string{
	"ABHÖREN", "BESTÄTIGUNG", "Aktive Verbindungen", // German
	"État", "Adresse locale", // French
	"Dirección", "Conexiones activas", // Spanish
	"Conexões", "Endereço", // Portuguese
	"Активные", "Локальный", "Внешний", "Состояние", "Имя", // Russian
	"活动连接", "协议", "本地地址", "外部地址", "状态", // Simplified Chinese
	"アクティブな接続", "プロトコル", "ローカル", "外部アドレス", "状態", // Japanese (unverified)
}

// decodeLegacy decodes non-UTF-8 bytes with the best-scoring code page.
func decodeLegacy(data []byte) ([]byte, string, error) {
	sample := data
	if len(sample) > 64<<10 {
		sample = sample[:64<<10]
	}
	best, bestScore := 0, 0
	for i, c := range legacyCandidates {
		out, err := c.enc.NewDecoder().Bytes(sample)
		if err != nil {
			continue
		}
		sc := textScore(out)
		if i == 0 || sc > bestScore {
			best, bestScore = i, sc
		}
	}
	c := legacyCandidates[best]
	out, err := c.enc.NewDecoder().Bytes(data)
	if err != nil {
		// Cannot happen with the charmaps (every byte maps); fall back to
		// cp850, which never fails.
		out, _ = charmap.CodePage850.NewDecoder().Bytes(data)
		return stripNUL(out), EncCP850, nil
	}
	return stripNUL(out), c.name, nil
}

// textScore rates how much decoded text looks like words: each non-ASCII
// letter scores 1, 2 more when the letter before it is of the same script
// (a word, not a random mix); other non-ASCII runes (box drawing,
// symbols) and replacement characters cost. Known localised header words
// add 50 each.
func textScore(b []byte) int {
	s := string(b)
	score := 0
	var prev rune
	for _, r := range s {
		if r < utf8.RuneSelf {
			prev = r
			continue
		}
		switch {
		case r == utf8.RuneError:
			score -= 4
		case unicode.IsLetter(r):
			score++
			if unicode.IsLetter(prev) && sameScript(prev, r) {
				score += 2
			}
		case unicode.IsSpace(r):
		default:
			score -= 2
		}
		prev = r
	}
	for _, m := range legacyMarkers {
		score += 50 * strings.Count(s, m)
	}
	return score
}

var scripts = []*unicode.RangeTable{unicode.Latin, unicode.Cyrillic, unicode.Greek, unicode.Han, unicode.Hiragana, unicode.Katakana}

func sameScript(a, b rune) bool {
	for _, t := range scripts {
		if unicode.Is(t, a) {
			return unicode.Is(t, b) ||
				// Japanese mixes kana and kanji within a word.
				(t != unicode.Latin && t != unicode.Cyrillic && t != unicode.Greek &&
					(unicode.Is(unicode.Han, b) || unicode.Is(unicode.Hiragana, b) || unicode.Is(unicode.Katakana, b)))
		}
	}
	return false
}
