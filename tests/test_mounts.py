"""The network-drive check on real /proc/self/mountinfo lines (NFS and SMB cannot be mounted
here): the mount covering a folder is the longest mount point that is a prefix of its path."""

from __future__ import annotations

import pytest

from advice_desk.store.mounts import fs_type_of, network_type_in, parse_mountinfo

# Lines as Linux writes them (kernel 6.x): ID, parent, device, root, mount point, options,
# optional tags, "-", file system type, source, super-block options.
MOUNTINFO = "\n".join([
    "29 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro",
    "30 29 0:26 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw",
    "45 29 259:3 / /home rw,relatime shared:30 - ext4 /dev/nvme0n1p3 rw",
    "556 29 0:52 / /mnt/nas rw,relatime shared:301 - nfs4 192.168.1.20:/volume1/share "
    "rw,vers=4.1,rsize=131072,wsize=131072,namlen=255,hard,proto=tcp,timeo=600,retrans=2,"
    "sec=sys,clientaddr=192.168.1.31,local_lock=none,addr=192.168.1.20",
    "560 556 259:4 / /mnt/nas/scratch rw,relatime shared:305 - ext4 /dev/sdb1 rw",
    "612 29 0:55 / /mnt/office rw,relatime shared:334 master:12 - cifs //fileserver/office "
    "rw,vers=3.1.1,cache=strict,username=amy,uid=1000,noforceuid,gid=1000,noforcegid,"
    "addr=10.0.0.5,file_mode=0755,dir_mode=0755,soft,nounix,serverino,mapposix,rsize=4194304,"
    "wsize=4194304,bsize=1048576,echo_interval=60,actimeo=1,closetimeo=1",
    r"640 29 0:58 / /media/Team\040Share rw,relatime shared:350 - smb3 //nas.local/team "
    "rw,vers=3.0,cache=strict,username=desk,uid=1000,noforceuid,gid=1000,noforcegid,"
    "addr=192.168.0.10,file_mode=0755,dir_mode=0755,soft,nounix,serverino,mapposix",
    "700 45 0:60 / /home/amy/server rw,nosuid,nodev,relatime shared:400 - fuse.sshfs "
    "amy@server:/srv rw,user_id=1000,group_id=1000",
    "85 29 0:48 / /mnt/c rw,noatime - 9p drvfs rw,dirsync,aname=drvfs;path=C:\\;uid=1000;"
    "gid=1000;symlinkroot=/mnt/,mmap,access=client,msize=262144,trans=virtio",
    # A local disk mounted over the NFS share at the same point: the last mount wins.
    "801 29 0:70 / /srv/desk rw,relatime shared:420 - nfs 10.0.0.9:/desk rw,vers=3",
    "802 801 259:5 / /srv/desk rw,relatime shared:421 - xfs /dev/sdc1 rw",
])


def test_each_line_gives_its_mount_point_and_type() -> None:
    mounts = parse_mountinfo(MOUNTINFO + "\nnot a mountinfo line\n")
    assert ("/mnt/nas", "nfs4") in mounts
    assert ("/mnt/office", "cifs") in mounts  # two optional tags before the separator
    assert ("/media/Team Share", "smb3") in mounts  # \040 is a space
    assert len(mounts) == 11  # the line that is not one is skipped


@pytest.mark.parametrize(("folder", "network"), [
    ("/mnt/nas/advice-desk", "nfs4"),
    ("/mnt/nas", "nfs4"),
    ("/mnt/office/Helpline/advice-desk", "cifs"),
    ("/media/Team Share/desk", "smb3"),
    ("/home/amy/server/desk", "fuse.sshfs"),
    ("/srv/desk/data", "nfs"),
])
def test_a_folder_on_a_network_share_is_found(folder: str, network: str) -> None:
    if folder.startswith("/srv/desk"):  # only the NFS mount, without the disk over it
        table = "\n".join(line for line in MOUNTINFO.splitlines() if not line.startswith("802"))
        assert network_type_in(folder, table) == network
        return
    assert network_type_in(folder, MOUNTINFO) == network


@pytest.mark.parametrize(("folder", "fs_type"), [
    ("/home/amy/.local/share/advice-desk", "ext4"),
    ("/mnt/nas/scratch/desk", "ext4"),  # a local disk mounted inside the share
    ("/mnt/nasty/desk", "ext4"),  # /mnt/nas is not a prefix of /mnt/nasty
    ("/mnt/c/Users/amy/desk", "9p"),  # WSL's view of the PC's own disk
    ("/srv/desk/data", "xfs"),  # mounted over the NFS share
    ("/", "ext4"),
])
def test_a_folder_on_a_local_disk_is_not_refused(folder: str, fs_type: str) -> None:
    assert fs_type_of(folder, MOUNTINFO) == fs_type
    assert network_type_in(folder, MOUNTINFO) is None


def test_without_a_mount_table_nothing_is_refused() -> None:
    assert network_type_in("/home/amy", "") is None
