package analyze

// netstatLinuxFormat is a placeholder: the parser is not written yet.
var netstatLinuxFormat = &Format{Name: "netstat-linux", Description: "(not implemented yet)"}
