# Shared by the benchmark scripts: installing missing tools and waiting for a port.

# install_missing TOOL... — apt-get installs the Debian packages of the tools not on PATH
# (`time` stands for GNU time at /usr/bin/time).
install_missing() {
    local missing=() tool
    for tool in "$@"; do
        if [ "$tool" = time ]; then
            [ -x /usr/bin/time ] || missing+=(time)
        else
            command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
        fi
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "== installing ${missing[*]}"
        local sudo=""
        [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# wait_for_port PORT — returns once something accepts connections on 127.0.0.1:PORT.
wait_for_port() {
    python3 - "$1" <<'PY'
import socket, sys, time
for _ in range(200):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit("nothing listens on port " + sys.argv[1])
PY
}
