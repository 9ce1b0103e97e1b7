package windows

import (
	"io"
	"strconv"
	"strings"

	"github.com/tcpsnap/tcpsnap/analyze/model"
	"github.com/tcpsnap/tcpsnap/analyze/parse"
)

// NetshDynamicPortFormat reads `netsh int ipv4 show dynamicport tcp`, the
// Windows ephemeral port range (tcpsnap collect writes it as
// netsh-dynamicport.txt):
//
//	Protocol tcp Dynamic Port Range
//	---------------------------------
//	Start Port      : 49152
//	Number of Ports : 16384
//
// The values become the sysctls windows.dynamicport.tcp.start and
// windows.dynamicport.tcp.num. Localized output ("Startport",
// "Anzahl der Ports", ...) is read by position: the first number is the
// start, the second the count.
var NetshDynamicPortFormat = &parse.Format{
	Name:        "netsh-dynamicport",
	Description: "Windows netsh int ipv4 show dynamicport tcp",
	Example:     "Number of Ports : 16384",
	Paths:       []string{"netsh-dynamicport.txt"},
	Detect:      detectNetshDynamicPort,
	Parse:       parseNetshDynamicPort,
}

// netshValue splits "Label   : 123" into its label and number.
func netshValue(line string) (label string, n int, ok bool) {
	label, val, found := strings.Cut(line, ":")
	if !found {
		return "", 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(val))
	if err != nil || n < 0 {
		return "", 0, false
	}
	return strings.ToLower(strings.TrimSpace(label)), n, true
}

func detectNetshDynamicPort(head []string) int {
	header, values := false, 0
	for _, l := range head {
		t := strings.TrimSpace(l)
		lt := strings.ToLower(t)
		if strings.Contains(lt, "dynamic port range") || strings.HasPrefix(lt, "protocol tcp") {
			header = true
		}
		if label, _, ok := netshValue(t); ok && (strings.Contains(label, "start") || strings.Contains(label, "port")) {
			values++
		}
	}
	switch {
	case header && values >= 2:
		return 95
	case values == 2 && len(head) <= 4:
		return 60
	}
	return 0
}

func parseNetshDynamicPort(r io.Reader, out *model.Listing) error {
	sc := parse.NewLineScanner(r)
	proto := "tcp"
	var nums []int
	start, num := -1, -1
	for sc.Scan() {
		t := strings.TrimSpace(sc.Text())
		lt := strings.ToLower(t)
		if t == "" || strings.HasPrefix(t, "---") {
			continue
		}
		if strings.HasPrefix(lt, "protocol ") {
			if f := strings.Fields(lt); len(f) > 1 {
				proto = f[1]
			}
			continue
		}
		label, n, ok := netshValue(t)
		if !ok {
			continue
		}
		nums = append(nums, n)
		switch {
		case strings.Contains(label, "start"):
			start = n
		case strings.Contains(label, "number") || strings.Contains(label, "num"):
			num = n
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if proto != "tcp" {
		out.Problemf(0, "dynamic port range of "+proto+", not tcp: not used")
		return nil
	}
	if start < 0 && len(nums) >= 1 {
		start = nums[0]
	}
	if num < 0 && len(nums) >= 2 {
		num = nums[1]
	}
	if start < 1 || start > 65535 || num < 1 || start+num-1 > 65535 {
		out.Problemf(0, "no valid start port and number of ports")
		return nil
	}
	out.SetSysctl("windows.dynamicport.tcp.start", strconv.Itoa(start))
	out.SetSysctl("windows.dynamicport.tcp.num", strconv.Itoa(num))
	out.SetSysctl("tcpsnap.os", "windows")
	return nil
}
