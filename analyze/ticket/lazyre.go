package ticket

import (
	"regexp"
	"sync"
)

// A lazyRE is a regular expression compiled at its first use. The
// package holds over a hundred of them, and compiling them all when the
// program starts cost about 17 ms of every run — a listing that is not a
// ticket never uses most of them (issue 12).
type lazyRE struct {
	pattern string
	once    sync.Once
	re      *regexp.Regexp
}

// allLazy lists every lazyRE made, so that a test compiles them all.
var allLazy []*lazyRE

// lazyRegexp returns a lazyRE of pattern; a bad pattern panics at first
// use (TestLazyRegexpsCompile compiles every one).
func lazyRegexp(pattern string) *lazyRE {
	l := &lazyRE{pattern: pattern}
	allLazy = append(allLazy, l)
	return l
}

func (l *lazyRE) get() *regexp.Regexp {
	l.once.Do(func() { l.re = regexp.MustCompile(l.pattern) })
	return l.re
}

func (l *lazyRE) String() string                 { return l.pattern }
func (l *lazyRE) Match(b []byte) bool            { return l.get().Match(b) }
func (l *lazyRE) MatchString(s string) bool      { return l.get().MatchString(s) }
func (l *lazyRE) FindSubmatch(b []byte) [][]byte { return l.get().FindSubmatch(b) }
func (l *lazyRE) FindStringSubmatch(s string) []string {
	return l.get().FindStringSubmatch(s)
}
func (l *lazyRE) FindAllIndex(b []byte, n int) [][]int { return l.get().FindAllIndex(b, n) }
func (l *lazyRE) FindAllStringIndex(s string, n int) [][]int {
	return l.get().FindAllStringIndex(s, n)
}
func (l *lazyRE) FindAllStringSubmatch(s string, n int) [][]string {
	return l.get().FindAllStringSubmatch(s, n)
}
func (l *lazyRE) FindAllStringSubmatchIndex(s string, n int) [][]int {
	return l.get().FindAllStringSubmatchIndex(s, n)
}
func (l *lazyRE) ReplaceAllString(src, repl string) string {
	return l.get().ReplaceAllString(src, repl)
}
func (l *lazyRE) Split(s string, n int) []string { return l.get().Split(s, n) }
func (l *lazyRE) FindIndex(b []byte) []int       { return l.get().FindIndex(b) }
func (l *lazyRE) FindStringSubmatchIndex(s string) []int {
	return l.get().FindStringSubmatchIndex(s)
}
