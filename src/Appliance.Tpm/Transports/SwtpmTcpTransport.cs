using System.Buffers.Binary;
using System.Net.Sockets;
using Appliance.Tpm.Marshalling;

namespace Appliance.Tpm.Transports;

/// <summary>
/// swtpm's TCP server: the data port carries bare TPM 2.0 frames, the control port (by convention
/// data port + 1) takes swtpm's own commands (swtpm_ioctls, "CMD_INIT"). swtpm serves one client at a
/// time, so this keeps a single data connection open until disposed.
/// </summary>
internal sealed class SwtpmTcpTransport : ITpmTransport
{
    // swtpm control channel commands (swtpm's tpm_ioctl.h; each a big-endian UINT32, answered with a UINT32 result).
    private const uint CmdInit = 0x02;

    private readonly string _host;
    private readonly int _dataPort;
    private readonly TimeSpan _timeout;
    private TcpClient? _data;

    public SwtpmTcpTransport(string host, int dataPort, TimeSpan timeout)
    {
        _host = host;
        _dataPort = dataPort;
        _timeout = timeout;
    }

    public int ControlPort => _dataPort + 1;

    /// <summary>Parses "swtpm:HOST:PORT" (the --tpm option) into host and data port; the control port is PORT + 1.</summary>
    public static (string Host, int Port) ParseAddress(string address)
    {
        const string prefix = "swtpm:";
        if (!address.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new FormatException($"'{address}' is not a swtpm address; use swtpm:HOST:PORT, for example swtpm:127.0.0.1:2321.");
        }

        var rest = address[prefix.Length..];
        var colon = rest.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(rest[(colon + 1)..], out var port) || port is < 1 or > 65534)
        {
            throw new FormatException($"'{address}' needs a host and a data port from 1 to 65534 (the control port is the next one): swtpm:HOST:PORT.");
        }

        var host = rest[..colon].Trim('[', ']');
        return (host, port);
    }

    /// <summary>
    /// Makes the simulator usable as firmware would on real hardware: power-on (CMD_INIT through the
    /// control port) and TPM2_Startup(CLEAR), but only when it is not running yet. A running swtpm is
    /// left alone: each power cycle without TPM2_Shutdown counts as a dictionary-attack failure
    /// (Part 1, 19.8.6 "non-orderly shutdown"), and a few of them would put the TPM into lockout.
    /// </summary>
    public void PowerOnAndStartup()
    {
        var client = new Tpm2Client(this);
        try
        {
            client.Startup(TpmSu.Clear);
            return;
        }
        catch (TpmException e) when (e.Code == TpmResponseCode.Failure)
        {
            // swtpm answers TPM_RC_FAILURE to everything until it gets CMD_INIT.
        }

        SendControl(CmdInit, 0); // init flags 0: keep the volatile state file, if any
        // CMD_INIT closes the data connection on swtpm's side; open a fresh one.
        CloseData();
        client.Startup(TpmSu.Clear);
    }

    private void SendControl(uint command, uint argument)
    {
        using var control = Connect(ControlPort);
        Span<byte> request = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(request, command);
        BinaryPrimitives.WriteUInt32BigEndian(request[4..], argument);
        var stream = control.GetStream();
        stream.Write(request);
        Span<byte> answer = stackalloc byte[4];
        stream.ReadExactly(answer);
        var result = BinaryPrimitives.ReadUInt32BigEndian(answer);
        if (result != 0)
        {
            throw new IOException($"swtpm at {_host}:{ControlPort} refused control command {command} with result 0x{result:X}.");
        }
    }

    public byte[] Transmit(ReadOnlySpan<byte> command)
    {
        try
        {
            return TransmitOnce(command);
        }
        catch (IOException)
        {
            // swtpm drops the data connection on CMD_INIT or when another client took over; reconnect once.
            CloseData();
            return TransmitOnce(command);
        }
    }

    public void Dispose() => CloseData();

    private byte[] TransmitOnce(ReadOnlySpan<byte> command)
    {
        _data ??= Connect(_dataPort);
        var stream = _data.GetStream();
        stream.Write(command);
        var header = new byte[Tpm2Frame.HeaderSize];
        stream.ReadExactly(header);
        var size = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(2));
        if (size is < Tpm2Frame.HeaderSize or > Tpm2Frame.MaxCommandSize)
        {
            CloseData();
            throw new TpmFormatException($"swtpm at {_host}:{_dataPort} answered a frame of {size} bytes.");
        }

        var response = new byte[size];
        header.CopyTo(response, 0);
        stream.ReadExactly(response, Tpm2Frame.HeaderSize, (int)size - Tpm2Frame.HeaderSize);
        return response;
    }

    private TcpClient Connect(int port)
    {
        var client = new TcpClient { NoDelay = true, ReceiveTimeout = (int)_timeout.TotalMilliseconds, SendTimeout = (int)_timeout.TotalMilliseconds };
        try
        {
            using var cts = new CancellationTokenSource(_timeout);
            client.ConnectAsync(_host, port, cts.Token).AsTask().GetAwaiter().GetResult();
            return client;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            client.Dispose();
            throw new IOException($"Cannot connect to swtpm at {_host}:{port}: {e.Message}. Start it with: swtpm socket --tpm2 --tpmstate dir=DIR --server type=tcp,port={_dataPort} --ctrl type=tcp,port={_dataPort + 1}", e);
        }
    }

    private void CloseData()
    {
        _data?.Dispose();
        _data = null;
    }
}
