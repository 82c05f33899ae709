#!/bin/busybox sh
# Stage 1 of the guest, /init of the initramfs that run-in-guest.sh builds (busybox only).
#
# Builds the guest's root and hands over to stage 2 (pid1.sh):
#   /                 the host's / (virtio-9p, read-only) under a tmpfs overlay: every
#                     program of the host, writes land in guest RAM
#   /proc /sys /dev   the guest's own; /dev/fd and friends as udev would link them
#   /run /tmp /var/tmp, $TMPFS_DIRS   empty tmpfs (overlay upper dirs can live there,
#                     not on 9p or on the overlay root)
#   $SHARE            the host's directory of that path (the current directory's top
#                     below one of those tmpfs mounts), read-only 9p under an overlay
#   /sys/fs/cgroup    cgroup v2 only, mounted as systemd mounts it, and set up like
#                     systemd does: PID 1 in /init.scope, every controller enabled down
#                     to the parent of the command's cgroup $CGROUP (a leaf, as a service
#                     with Delegate=yes gets); the slice above it has systemd's
#                     DefaultTasksMax as pids.max
#   /dev/net/tun ...  the static nodes of modules.devname, as systemd-tmpfiles makes them
#                     (opening one loads its module through the host's modprobe)
#   eth0              qemu's user-mode NAT (10.0.2.15, gateway .2, DNS .3), if any
# A failure prints "guest: error: ..." on the console and powers off; the host then
# reports that line.
/bin/busybox --install -s /bin
export PATH=/bin

die() {
  echo "guest: error: $*" >/dev/console
  for t in /proc/sysrq-trigger /newroot/proc/sysrq-trigger; do echo o >$t; done 2>/dev/null
  sleep 60
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
. /guest/conf

for m in /guest/modules/*.ko; do
  [ -e "$m" ] || continue
  insmod "$m" || die "insmod $m failed"
done

mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=262144,cache=loose,access=client \
  hostroot /mnt/lower || die "cannot mount the host's / over 9p"
mount -t tmpfs -o mode=0755 overlay-rw /mnt/rw
mkdir -p /mnt/rw/upper /mnt/rw/work
mount -t overlay -o lowerdir=/mnt/lower,upperdir=/mnt/rw/upper,workdir=/mnt/rw/work \
  guestroot /newroot || die "cannot mount the overlay root"

R=/newroot
for fs in proc sys dev; do mount --move /$fs $R/$fs || die "cannot move /$fs"; done
ln -sfn /proc/self/fd $R/dev/fd
ln -sfn /proc/self/fd/0 $R/dev/stdin
ln -sfn /proc/self/fd/1 $R/dev/stdout
ln -sfn /proc/self/fd/2 $R/dev/stderr
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts $R/dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev shm $R/dev/shm
mount -t tmpfs -o mode=0755,nosuid,nodev run $R/run
for d in /tmp /var/tmp $TMPFS_DIRS; do
  mkdir -p $R$d && mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs $R$d || die "cannot mount a tmpfs at $d"
done
# The current directory's share when it lies under one of those tmpfs mounts: read-only
# 9p under a tmpfs overlay, at the same path.
if [ -n "$SHARE" ]; then
  mkdir -p /mnt/share /mnt/rw/share-upper /mnt/rw/share-work $R$SHARE
  mount -t 9p -o ro,trans=virtio,version=9p2000.L,msize=262144,cache=loose,access=client \
    share /mnt/share || die "cannot mount $SHARE over 9p"
  mount -t overlay -o lowerdir=/mnt/share,upperdir=/mnt/rw/share-upper,workdir=/mnt/rw/share-work \
    share $R$SHARE || die "cannot mount the overlay at $SHARE"
fi
grep -v '^#' $R/lib/modules/$(uname -r)/modules.devname 2>/dev/null | while read -r _ dev spec; do
  [ -e $R/dev/$dev ] && continue
  type=${spec%%[0-9]*} nums=${spec#?}
  mkdir -p $(dirname $R/dev/$dev) && mknod -m 0600 $R/dev/$dev $type ${nums%:*} ${nums#*:}
done
chmod 0666 $R/dev/net/tun $R/dev/fuse 2>/dev/null

# cgroup_no_v1=all is on the kernel command line: v2 is the only hierarchy.
C=$R/sys/fs/cgroup
mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate,memory_recursiveprot cgroup2 $C \
  || mount -t cgroup2 -o nosuid,nodev,noexec,nsdelegate cgroup2 $C \
  || die "cannot mount cgroup2"
mkdir $C/init.scope && echo $$ >$C/init.scope/cgroup.procs || die "cannot move PID 1 to /init.scope"
dir=$C
for part in $(echo "$CGROUP" | tr / ' '); do
  for c in $(cat $C/cgroup.controllers); do echo +$c >$dir/cgroup.subtree_control; done 2>/dev/null
  dir=$dir/$part
  mkdir -p $dir || die "cannot create the cgroup $CGROUP"
done
# systemd's DefaultTasksMax (15% of pid_max) on the command's slice: a fork bomb whose
# limit did not hold fails its test instead of taking the whole guest down.
slice=$(echo "$CGROUP" | cut -d/ -f2)
echo $(( $(cat $R/proc/sys/kernel/pid_max) * 15 / 100 )) >$C/$slice/pids.max || die "cannot set pids.max of /$slice"

hostname "$GUEST_HOSTNAME"
ip link set lo up
if [ "$NET" = user ]; then
  ip link set eth0 up && ip addr add 10.0.2.15/24 dev eth0 && ip route add default via 10.0.2.2 \
    || die "cannot configure eth0"
  rm -f $R/etc/resolv.conf
  echo 'nameserver 10.0.2.3' >$R/etc/resolv.conf
fi

mkdir -p $R/run/guest
cp /guest/conf /guest/env /guest/argv /guest/pid1.sh $R/run/guest/
[ -x $R/bin/bash ] || die "the host has no /bin/bash"
exec switch_root $R /bin/bash /run/guest/pid1.sh
