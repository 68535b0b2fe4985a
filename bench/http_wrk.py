#!/usr/bin/env python3
"""wrk against the HTTP server (web::Application, examples/io_demo.cpp's latency server with
no latency) and against aiohttp.web (examples/python/io_demo.py, the same app), one after the
other on this machine: requests per second and server CPU per request (user + system time of
the server process, from /proc, over the wrk run, divided by the requests wrk completed).

    bench/http_wrk.py [--build build] [--seconds 10] [--connections 100] [--threads 1]

Prints a Markdown table. Each server answers GET /page/N with a small text/html page after
asyncio.sleep(0) (latency 0), keep-alive, one process, one thread (one event loop).
"""
import argparse, os, re, signal, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick  # utime + stime


def start(cmd):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    for line in p.stdout:
        m = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if m:
            return p, int(m.group(1))
    raise RuntimeError(f"{cmd} did not start")


def wrk(port, args):
    url = f"http://127.0.0.1:{port}/page/1"
    subprocess.run(["wrk", "-t1", "-c10", "-d1s", url], capture_output=True)  # warm up
    out = subprocess.run(["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s", url],
                         capture_output=True, text=True, check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: .*", out)
    return requests, rps, errors.group(0) if errors else ""


def measure(name, cmd, args):
    p, port = start(cmd)
    try:
        before = cpu_seconds(p.pid)
        requests, rps, errors = wrk(port, args)
        used = cpu_seconds(p.pid) - before
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(10)
    return name, rps, used / requests * 1e6, errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--python", default="/usr/bin/python3")
    args = ap.parse_args()
    rows = [measure("asyncio-cpp web::Application", [os.path.join(args.build, "examples", "io_demo"), "serve", "0", "0"], args)]
    import_ok = subprocess.run([args.python, "-c", "import aiohttp"], capture_output=True).returncode == 0
    if import_ok:
        rows.append(measure("aiohttp.web " + subprocess.run([args.python, "-c", "import aiohttp; print(aiohttp.__version__)"],
                                                            capture_output=True, text=True).stdout.strip(),
                            [args.python, os.path.join(ROOT, "examples", "python", "io_demo.py"), "serve", "0", "0"], args))
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, keep-alive, GET /page/1; "
          f"{os.cpu_count()} cores, load average {load} before the run, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
    print("| server | requests/s | server CPU per request (µs) | errors |")
    print("|---|---|---|---|")
    for name, rps, us, errors in rows:
        print(f"| {name} | {rps:,.0f} | {us:.1f} | {errors or 'none'} |")
    if len(rows) == 2:
        print(f"\nasyncio-cpp: {rows[0][1] / rows[1][1]:.1f}x the requests per second, "
              f"{rows[1][2] / rows[0][2]:.1f}x less CPU per request than aiohttp.")


if __name__ == "__main__":
    sys.exit(main())
