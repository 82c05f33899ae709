#!/usr/bin/env bash
# run-in-guest.sh: run a command, as root, under another Linux kernel (an installed
# Debian kernel package) in a throwaway qemu guest with a pure cgroup v2 hierarchy, and
# exit with its status. The guest sees the host's / read-only under a tmpfs overlay, so
# everything installed here (node, the checkout, the tests' tools) is there too; a
# checkout under /tmp (an empty tmpfs in the guest) is shared the same way on its own.
# guest/init.sh and guest/pid1.sh describe the guest; docs/kernels.md
# how to use it. Nothing is installed here: a missing tool is an error naming its package.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

usage() {
  cat <<'EOF'
usage: test/kernels/run-in-guest.sh [options] -- COMMAND [ARG...]

Runs COMMAND in the current directory, as root, in a qemu guest booted from an installed
Debian kernel, with this environment, stdin /dev/null, stdout and stderr as pipes.

  --kernel K      6.1, 6.12 (the newest installed generic amd64 kernel of that series)
                  or an exact version from /lib/modules                     [6.1]
  --mem SIZE      guest memory (qemu -m)                                    [4G]
  --cpus N        virtual CPUs                                              [2]
  --timeout SEC   stop the guest after SEC seconds                          [none]
  --net MODE      user (qemu's NAT: outbound only, DNS from the host) or none [user]
  --accel MODE    auto, kvm or tcg; auto is kvm only with hardware virtualization
                  (kvm_intel or kvm_amd loaded), else tcg (emulation)       [auto]
  --cgroup PATH   the leaf cgroup COMMAND starts in          [/system.slice/ci.service]
  --tmpfs DIR     an empty tmpfs at DIR (repeatable; /run, /tmp, /var/tmp always are)
  --append ARGS   more kernel command line
  --log FILE      keep the guest's console (kernel messages) in FILE
  -v, --verbose   say which kernel boots how, and how long the guest ran
  --print-kernel  print the kernel version --kernel picks, and exit (125 if none)

Exit status: COMMAND's; 124 when --timeout stopped it; 125 when the guest could not be
started or did not get as far as COMMAND (one line on stderr says why); 123 when the
guest died while COMMAND ran (the console's last lines follow).
EOF
}

fail() { echo "run-in-guest: $*" >&2; exit 125; }
say() { [[ $verbose == 0 ]] || echo "run-in-guest: $*" >&2; }

kernel=6.1 mem=4G cpus=2 timeout_s='' net=user accel=auto cgroup=/system.slice/ci.service
append='' log='' verbose=0 print_kernel=0 tmpfs=()
while (($#)); do
  case $1 in
    --kernel|--mem|--cpus|--timeout|--net|--accel|--cgroup|--tmpfs|--append|--log)
      (($# >= 2)) || { echo "run-in-guest: $1 needs a value" >&2; exit 2; } ;;&
    --kernel) kernel=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --net) net=$2; shift 2 ;;
    --accel) accel=$2; shift 2 ;;
    --cgroup) cgroup=$2; shift 2 ;;
    --tmpfs) tmpfs+=("$2"); shift 2 ;;
    --append) append+=" $2"; shift 2 ;;
    --log) log=$2; shift 2 ;;
    -v|--verbose) verbose=1; shift ;;
    --print-kernel) print_kernel=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    *) echo "run-in-guest: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
bad() { echo "run-in-guest: $*" >&2; exit 2; }
(($# || print_kernel)) || bad "no command (usage: run-in-guest.sh [options] -- COMMAND [ARG...])"
[[ $net == user || $net == none ]] || bad "--net is user or none, not '$net'"
[[ $accel == auto || $accel == kvm || $accel == tcg ]] || bad "--accel is auto, kvm or tcg, not '$accel'"
[[ -z $timeout_s || $timeout_s =~ ^[1-9][0-9]*$ ]] || bad "--timeout takes whole seconds, not '$timeout_s'"
[[ $cpus =~ ^[1-9][0-9]*$ ]] || bad "--cpus takes a number, not '$cpus'"
[[ $cgroup =~ ^(/[A-Za-z0-9_.@-]+)+$ ]] || bad "--cgroup is an absolute cgroup path such as /system.slice/ci.service, not '$cgroup'"
for d in ${tmpfs[@]+"${tmpfs[@]}"}; do [[ $d =~ ^(/[A-Za-z0-9_.@-]+)+$ ]] || bad "--tmpfs takes an absolute path without spaces, not '$d'"; done

# --- the kernel -----------------------------------------------------------------------
# The package that brings a series to bookworm: its own 6.1 is linux-image-amd64.
package_for() { if [[ $1 == 6.1 ]]; then echo linux-image-amd64; else echo "linux-image-$1-amd64"; fi; }
if [[ $kernel =~ ^[0-9]+\.[0-9]+$ ]]; then
  # Debian's generic flavour: 6.1.0-57-amd64, 6.12.118+deb12-amd64 (not -cloud-, -rt-).
  found=()
  for d in /lib/modules/"$kernel".*; do
    [[ ${d##*/} =~ ^${kernel//./\\.}\.[0-9][^-]*(-[0-9]+)?-amd64$ ]] && found+=("${d##*/}")
  done
  kver=''
  ((${#found[@]} == 0)) || kver=$(printf '%s\n' "${found[@]}" | sort -V | tail -n1)
  [[ -n $kver ]] || fail "no $kernel kernel is installed (apt-get install $(package_for "$kernel"))"
else
  kver=$kernel
fi
vmlinuz=/boot/vmlinuz-$kver
[[ -r $vmlinuz && -d /lib/modules/$kver ]] || fail "kernel $kver needs $vmlinuz and /lib/modules/$kver"
if ((print_kernel)); then echo "$kver"; exit 0; fi

# A current directory under one of the guest's tmpfs mounts (a CI job's clone in /tmp)
# is shared on its own: its top directory below that mount, at the same path.
cwd=$(pwd -P) share=''
for d in /run /tmp /var/tmp ${tmpfs[@]+"${tmpfs[@]}"}; do
  [[ $cwd == "$d" ]] && fail "the current directory $cwd is an empty tmpfs in the guest: run from a directory below it or elsewhere"
  if [[ $cwd/ == "$d"/* ]]; then rel=${cwd#"$d"/}; share=$d/${rel%%/*}; fi
done
[[ $share =~ ^(/[A-Za-z0-9_.@+-]+)+$ ]] || [[ -z $share ]] || fail "cannot share $share with the guest (a path without spaces or commas, please)"

# --- what the host needs ------------------------------------------------------------
[[ $(id -u) == 0 ]] || fail "must run as root (9p passthrough of /, KVM)"
[[ $(uname -m) == x86_64 ]] || fail "runs x86-64 guests on an x86-64 host only, this is $(uname -m)"
command -v qemu-system-x86_64 >/dev/null || fail "no qemu-system-x86_64 (apt-get install qemu-system-x86)"
command -v modprobe >/dev/null || fail "no modprobe (apt-get install kmod)"
busybox=
for b in /bin/busybox /usr/bin/busybox; do
  [[ -x $b ]] && ! ldd "$b" >/dev/null 2>&1 && { busybox=$b; break; }
done
[[ -n $busybox ]] || fail "no statically linked busybox (apt-get install busybox-static)"

# --- hardware virtualization or emulation -------------------------------------------
# A usable /dev/kvm alone is not enough: some cloud machines offer a paravirtual KVM
# (kvm_pvm) that boots only kernels built for it. Real KVM comes with kvm_intel/kvm_amd.
hw_kvm=0
[[ -r /dev/kvm && -w /dev/kvm ]] && [[ -d /sys/module/kvm_intel || -d /sys/module/kvm_amd ]] && hw_kvm=1
if [[ $accel == auto ]]; then accel=$([[ $hw_kvm == 1 ]] && echo kvm || echo tcg); fi
[[ $accel == tcg || $hw_kvm == 1 ]] || fail "--accel kvm needs /dev/kvm from kvm_intel or kvm_amd (hardware virtualization); use --accel tcg"

tmp=$(mktemp -d /tmp/run-in-guest.XXXXXX)
qemu_pid='' relays=()
cleanup() {
  [[ -z $qemu_pid ]] || kill "$qemu_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

image=$vmlinuz
if [[ $accel == tcg ]] && grep -qx CONFIG_PVH=y "/boot/config-$kver" 2>/dev/null; then
  # Emulated, the kernel's own decompressor takes seconds: boot the ELF inside the
  # bzImage through its PVH entry. The setup header says where the payload is
  # (setup_sects at 0x1f1, payload_offset/length at 0x248/0x24c); the payload ends with
  # the length of what it unpacks to, which checks the result.
  u8() { od -An -tu1 -j "$2" -N1 "$1" | tr -d ' '; }
  u32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' '; }
  start=$(( ($(u8 "$vmlinuz" 0x1f1) + 1) * 512 + $(u32 "$vmlinuz" 0x248) ))
  length=$(u32 "$vmlinuz" 0x24c)
  dd if="$vmlinuz" of="$tmp/payload" bs=64K iflag=skip_bytes,count_bytes skip="$start" \
    count="$((length - 4))" status=none
  want=$(u32 "$vmlinuz" $((start + length - 4)))
  case $(od -An -tx1 -N4 "$tmp/payload" | tr -d ' ') in
    fd377a58) unpack=(xz -dc) ;;
    28b52ffd) unpack=(zstd -qdc) ;;
    1f8b08*) unpack=(gzip -dc) ;;
    *) unpack=() ;;
  esac
  if ((${#unpack[@]})) && command -v "${unpack[0]}" >/dev/null \
    && "${unpack[@]}" <"$tmp/payload" >"$tmp/vmlinux" 2>/dev/null \
    && [[ $(stat -c %s "$tmp/vmlinux") == "$want" ]]; then
    image=$tmp/vmlinux
  else
    say "could not unpack $vmlinuz (${unpack[0]:-unknown compression}); booting it compressed"
  fi
  rm -f "$tmp/payload"
fi

# --- the initramfs: busybox, the modules that mount the root, the guest's scripts -----
ird=$tmp/initramfs
mkdir -p "$ird"/{bin,dev,proc,sys,mnt/lower,mnt/rw,newroot,guest/modules}
mknod -m 0600 "$ird/dev/console" c 5 1
cp "$busybox" "$ird/bin/busybox"
cp "$here/guest/init.sh" "$ird/init"
cp "$here/guest/pid1.sh" "$ird/guest/pid1.sh"
modules=(virtio_pci virtio_console virtio_rng 9pnet_virtio 9p overlay)
[[ $net == none ]] || modules+=(virtio_net)
deps=$(modprobe -S "$kver" --show-depends -a "${modules[@]}" 2>/dev/null) \
  || fail "modprobe cannot resolve ${modules[*]} for $kver (is /lib/modules/$kver complete?)"
n=0
declare -A seen=()
while read -r verb path _; do
  [[ $verb == insmod && -z ${seen[$path]-} ]] || continue   # "builtin X" needs nothing
  seen[$path]=1
  n=$((n + 1))
  dest=$(printf '%s/guest/modules/%03d.ko' "$ird" "$n")
  case $path in
    *.ko) cp "$path" "$dest" ;;
    *.ko.xz) xz -dc "$path" >"$dest" ;;
    *.ko.zst) zstd -qdc "$path" >"$dest" ;;
    *.ko.gz) gzip -dc "$path" >"$dest" ;;
    *) fail "cannot load the module $path" ;;
  esac
done <<<"$deps"
{
  printf 'CWD=%q\n' "$cwd"
  printf 'CGROUP=%q\n' "$cgroup"
  printf 'NET=%q\n' "$net"
  printf 'TMPFS_DIRS=%q\n' "${tmpfs[*]-}"
  printf 'SHARE=%q\n' "$share"
  printf 'GUEST_HOSTNAME=%q\n' "$(uname -n)"
} >"$ird/guest/conf"
for name in $(compgen -e); do
  case $name in
    PWD|OLDPWD|SHLVL|_|TMPDIR|TMP|TEMP|SSH_*|DISPLAY|WAYLAND_DISPLAY|XDG_RUNTIME_DIR|DBUS_*) ;;
    JOURNAL_STREAM|NOTIFY_SOCKET|LISTEN_*|INVOCATION_ID) ;;
    *) declare -p "$name" ;;
  esac
done >"$ird/guest/env"
printf '%s\0' "$@" >"$ird/guest/argv"
(cd "$ird" && find . | "$busybox" cpio -o -H newc 2>/dev/null) >"$tmp/initrd" \
  || fail "cannot pack the initramfs"

# --- qemu -------------------------------------------------------------------------------
# Output: two virtio serial ports write into pipes whose readers copy to our stdout and
# stderr; the third port, a file, gets "started" and "exit N" from the guest.
exec 3> >(exec cat)
relays+=($!)
exec 4> >(exec cat >&2)
relays+=($!)
if [[ $accel == kvm ]]; then
  machine=(-machine pc,accel=kvm -cpu host)
else
  machine=(-machine pc -accel tcg,thread=multi -cpu max)
fi
args=(
  -nodefaults -no-user-config -display none -no-reboot
  "${machine[@]}" -smp "$cpus" -m "$mem"
  -kernel "$image" -initrd "$tmp/initrd"
  -append "console=ttyS0 quiet panic=-1 cgroup_no_v1=all rdinit=/init$append"
  -serial "file:$tmp/console"
  -device virtio-serial-pci,id=ports
  -chardev file,id=out,path=/proc/self/fd/3 -device virtserialport,bus=ports.0,chardev=out,name=guest.stdout
  -chardev file,id=err,path=/proc/self/fd/4 -device virtserialport,bus=ports.0,chardev=err,name=guest.stderr
  -chardev "file,id=status,path=$tmp/status" -device virtserialport,bus=ports.0,chardev=status,name=guest.status
  -device virtio-rng-pci
  -fsdev local,id=hostroot,path=/,security_model=passthrough,readonly=on,multidevs=remap
  -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
)
[[ -z $share ]] || args+=(
  -fsdev "local,id=share,path=$share,security_model=passthrough,readonly=on,multidevs=remap"
  -device virtio-9p-pci,fsdev=share,mount_tag=share
)
if [[ $net == user ]]; then args+=(-nic user,model=virtio-net-pci); else args+=(-nic none); fi
runner=()
[[ -z $timeout_s ]] || runner=(timeout -s TERM -k 10 "$timeout_s")
say "booting $kver ($accel, ${image##*/}) with $cpus CPUs, $mem, net $net"
SECONDS=0
"${runner[@]}" qemu-system-x86_64 "${args[@]}" </dev/null >/dev/null 2>"$tmp/qemu.err" &
qemu_pid=$!
qemu_rc=0
wait "$qemu_pid" || qemu_rc=$?
qemu_pid=
exec 3>&- 4>&-
wait "${relays[@]}" 2>/dev/null || true
say "the guest ran ${SECONDS}s"
[[ -z $log ]] || cp "$tmp/console" "$log"

status=$(cat "$tmp/status" 2>/dev/null || true)
if [[ $status =~ exit\ ([0-9]+) ]]; then exit "${BASH_REMATCH[1]}"; fi
timed_out=0
[[ -n $timeout_s && $qemu_rc == 124 ]] && timed_out=1
if [[ $status == *started* ]]; then
  if ((timed_out)); then echo "run-in-guest: timed out after ${timeout_s}s" >&2; exit 124; fi
  echo "run-in-guest: the $kver guest stopped while the command ran (qemu exit $qemu_rc); its console ends:" >&2
  tail -n 30 "$tmp/console" >&2
  exit 123
fi
why=$(grep -a "guest: error:" "$tmp/console" | tail -n1 || true)
why=${why#*guest: error: }
[[ -n $why ]] || why=$(grep -v '^\s*$' "$tmp/qemu.err" | tail -n1 || true)
[[ -n $why ]] || why=$(grep -av '^\s*$' "$tmp/console" | tail -n1 || true)
((timed_out)) && why="nothing within ${timeout_s}s${why:+; last said: $why}"
fail "the $kver guest ($accel) did not start the command: ${why:-qemu exit $qemu_rc and nothing on the console (keep it with --log FILE)}"
