// Command probe is the lab's test helper, built into a forge image (recipes/lab/probe.toml)
// because no registry image is available: one small static binary that serves, fetches,
// resolves and writes, so the e2e steps can test DNS, Services, NodePorts, volumes and
// NetworkPolicies from inside pods.
//
//	probe serve ADDR           answer every HTTP request with "probe <hostname>"
//	probe get URL [SECONDS]    GET URL until it answers 200, for up to SECONDS (default 5)
//	probe lookup NAME          print NAME's addresses; exit 1 if it does not resolve
//	probe write FILE TEXT      write TEXT to FILE (atomically)
//	probe cat FILE             print FILE
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fail("usage: probe serve ADDR | get URL [SECONDS] | lookup NAME | write FILE TEXT | cat FILE")
	}
	arg := os.Args[2]
	switch os.Args[1] {
	case "serve":
		serve(arg)
	case "get":
		timeout := 5 * time.Second
		if len(os.Args) > 3 {
			seconds, err := strconv.Atoi(os.Args[3])
			if err != nil {
				fail("get: timeout %q is not a number of seconds", os.Args[3])
			}
			timeout = time.Duration(seconds) * time.Second
		}
		get(arg, timeout)
	case "lookup":
		lookup(arg)
	case "write":
		if len(os.Args) != 4 {
			fail("usage: probe write FILE TEXT")
		}
		write(arg, os.Args[3])
	case "cat":
		data, err := os.ReadFile(arg)
		if err != nil {
			fail("cat: %v", err)
		}
		os.Stdout.Write(data)
	default:
		fail("unknown command %q", os.Args[1])
	}
}

func serve(addr string) {
	hostname, _ := os.Hostname()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "probe %s\n", hostname)
	})
	fmt.Printf("serving on %s\n", addr)
	if err := http.ListenAndServe(addr, nil); err != nil {
		fail("serve: %v", err)
	}
}

// get retries until the deadline: a NetworkPolicy firewall learns a new pod's address a
// moment after the pod starts, so a first attempt may legitimately be refused.
func get(url string, within time.Duration) {
	client := http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(within)
	for {
		err := getOnce(&client, url)
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			fail("get %s: %v", url, err)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func getOnce(client *http.Client, url string) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	fmt.Printf("%d %s", resp.StatusCode, body)
	return nil
}

func lookup(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	if err != nil {
		fail("lookup %s: %v", name, err)
	}
	for _, a := range addrs {
		fmt.Println(a)
	}
}

func write(path, text string) {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o644); err != nil {
		fail("write: %v", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		fail("write: %v", err)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "probe: "+format+"\n", args...)
	os.Exit(1)
}
