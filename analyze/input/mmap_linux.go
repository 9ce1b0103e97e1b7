package input

import "syscall"

const mapPopulate = syscall.MAP_POPULATE
