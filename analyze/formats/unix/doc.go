// Package unix parses the other Unix systems' listings: BSD and macOS
// netstat (-an, -A, -L listen queues), AIX netstat, Solaris and illumos
// netstat, Solaris ndd/ipadm and BSD sysctl settings, and lsof in its
// column and -F forms.
//
// Imports: parse and model. Registered in analyze/formats, which also
// holds these parsers' tests and testdata; its doc.go has the recipe.
package unix
