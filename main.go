// Command wearhouse receives wearable health data from the Open Wearables
// mobile SDKs, keeps it durably in an embedded store and serves it back.
package main

import (
	"fmt"
	"os"
)

var version = "dev"

func main() {
	cmd := "serve"
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	switch cmd {
	case "version":
		fmt.Println("wearhouse", version)
	default:
		fmt.Fprintln(os.Stderr, "wearhouse: server not built yet")
		os.Exit(1)
	}
}
