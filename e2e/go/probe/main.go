// Command probe is the e2e cluster's workload, ours: "serve" answers HTTP on :8080 with the pod's name and address;
// "get URL" prints what a URL answers; "lookup NAME" prints the addresses a name resolves to; "watch URL" asks URL every
// 0.5 s for ever and prints one line a try (milliseconds since the epoch, ok or fail, the answer or the error). Static,
// no dependencies, so its image is one file.
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: probe serve | get URL | lookup NAME")
	}
	switch os.Args[1] {
	case "serve":
		serve()
	case "get":
		get(arg(2))
	case "lookup":
		lookup(arg(2))
	case "watch":
		watch(arg(2))
	default:
		fail("unknown command " + os.Args[1])
	}
}

func arg(i int) string {
	if len(os.Args) <= i {
		fail("missing argument")
	}
	return os.Args[i]
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "probe:", msg)
	os.Exit(2)
}

func serve() {
	name, _ := os.Hostname()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s\n", name, os.Getenv("POD_IP"))
	})
	server := &http.Server{Addr: ":8080", ReadHeaderTimeout: 5 * time.Second}
	fail(server.ListenAndServe().Error())
}

func get(url string) {
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		fail(err.Error())
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if err != nil {
		fail(err.Error())
	}
	if resp.StatusCode != http.StatusOK {
		fail(fmt.Sprintf("%s answered %d", url, resp.StatusCode))
	}
	os.Stdout.Write(body)
}

func lookup(name string) {
	addrs, err := net.LookupHost(name)
	if err != nil {
		fail(err.Error())
	}
	for _, a := range addrs {
		fmt.Println(a)
	}
}

func watch(url string) {
	client := &http.Client{Timeout: 2 * time.Second}
	for tick := time.NewTicker(500 * time.Millisecond); ; <-tick.C {
		now := time.Now().UnixMilli()
		resp, err := client.Get(url)
		if err != nil {
			fmt.Printf("%d fail %s\n", now, err)
			continue
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			fmt.Printf("%d fail status %d %v\n", now, resp.StatusCode, err)
			continue
		}
		fmt.Printf("%d ok %s", now, body)
	}
}
