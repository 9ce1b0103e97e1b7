package analyze

// sysctlFormat is a placeholder: the parser is not written yet.
var sysctlFormat = &Format{Name: "sysctl", Description: "(not implemented yet)"}
