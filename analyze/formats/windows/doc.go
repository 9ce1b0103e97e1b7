// Package windows parses Windows listings: netstat -an/-ano/-anob in any
// language, PowerShell Get-NetTCPConnection (table and CSV), netsh
// dynamic port ranges and Tcpip\Parameters registry values.
//
// Imports: parse and model. Registered in analyze/formats, which also
// holds these parsers' tests and testdata; its doc.go has the recipe.
package windows
