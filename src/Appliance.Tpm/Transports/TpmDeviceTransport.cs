using System.Text;
using Appliance.Tpm.Marshalling;
using Tmds.Linux;
using static Tmds.Linux.LibC;

namespace Appliance.Tpm.Transports;

/// <summary>
/// The kernel's TPM character device, normally the resource-managed /dev/tpmrm0: one write() per
/// command, then poll() for the answer with a timeout, then one read() returns the whole response.
/// </summary>
internal sealed unsafe class TpmDeviceTransport : ITpmTransport
{
    private readonly string _path;
    private readonly TimeSpan _timeout;
    private int _fd;

    public TpmDeviceTransport(string path, TimeSpan timeout)
    {
        _path = path;
        _timeout = timeout;
        var pathBytes = Encoding.UTF8.GetBytes(path + "\0");
        fixed (byte* p = pathBytes)
        {
            _fd = open(p, O_RDWR | O_CLOEXEC);
        }

        if (_fd < 0)
        {
            var error = errno;
            throw new IOException(OpenFailure(path, error));
        }
    }

    private static string OpenFailure(string path, int error)
    {
        if (error == ENOENT)
        {
            return $"TPM device {path} does not exist: this machine has no TPM 2.0 enabled (check firmware settings); pass --tpm swtpm:HOST:PORT or --key-protection software.";
        }

        if (error == EACCES || error == EPERM)
        {
            return $"No permission to open TPM device {path}: run the service as a member of the tss group and allow the device in the unit (DeviceAllow={path} rw).";
        }

        return error == EBUSY
            ? $"TPM device {path} is in use by another process; use the resource manager device /dev/tpmrm0."
            : $"Cannot open TPM device {path}: errno {error}.";
    }

    public byte[] Transmit(ReadOnlySpan<byte> command)
    {
        ObjectDisposedException.ThrowIf(_fd < 0, this);
        long written;
        fixed (byte* p = command)
        {
            do
            {
                written = write(_fd, p, command.Length);
            }
            while (written < 0 && errno == EINTR);
        }

        if (written != command.Length)
        {
            throw new IOException($"TPM device {_path} took {written} of {command.Length} command bytes (errno {errno}).");
        }

        var pfd = new pollfd { fd = _fd, events = POLLIN };
        int ready;
        do
        {
            ready = poll(&pfd, 1, (int)_timeout.TotalMilliseconds);
        }
        while (ready < 0 && errno == EINTR);

        if (ready == 0)
        {
            throw new TimeoutException($"TPM device {_path} did not answer within {_timeout.TotalSeconds:0.#} s.");
        }

        if (ready < 0)
        {
            throw new IOException($"poll() on TPM device {_path} failed: errno {errno}.");
        }

        var buffer = new byte[Tpm2Frame.MaxCommandSize];
        long read;
        fixed (byte* p = buffer)
        {
            do
            {
                read = LibC.read(_fd, p, buffer.Length);
            }
            while (read < 0 && errno == EINTR);
        }

        if (read < Tpm2Frame.HeaderSize)
        {
            throw new IOException($"TPM device {_path} returned {read} bytes (errno {errno}); a response has at least {Tpm2Frame.HeaderSize}.");
        }

        return buffer.AsSpan(0, (int)read).ToArray();
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            close(_fd);
            _fd = -1;
        }
    }
}
