using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Appliance.Tpm.Transports;

namespace Appliance.Tpm.Tests.Infrastructure;

/// <summary>
/// One swtpm process (one simulated TPM with its own seeds) on free loopback ports, state in a
/// temporary directory. Started without --flags, so a client must power it on through the control port.
/// </summary>
public sealed class SwtpmInstance : IDisposable
{
    /// <summary>The Debian packages of the TPM simulator and tools, for the install hint of a missing one.</summary>
    public const string InstallPackages = "swtpm swtpm-tools tpm2-tools";

    private readonly Process _process;
    private readonly string _stateDirectory;

    public SwtpmInstance()
    {
        _stateDirectory = Directory.CreateTempSubdirectory("swtpm-test-").FullName;
        Port = FreePortPair();
        var swtpm = ExternalTools.Require("swtpm", InstallPackages);
        var start = new ProcessStartInfo(swtpm)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     "socket", "--tpm2", "--tpmstate", $"dir={_stateDirectory}",
                     "--server", $"type=tcp,port={Port},bindaddr=127.0.0.1",
                     "--ctrl", $"type=tcp,port={Port + 1},bindaddr=127.0.0.1",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("swtpm did not start.");
        WaitUntilListening();
    }

    public int Port { get; }

    public string Address => $"swtpm:127.0.0.1:{Port}";

    /// <summary>The TCTI string tpm2-tools needs for this instance.</summary>
    public string Tcti => $"swtpm:host=127.0.0.1,port={Port}";

    /// <summary>A powered-on, started transport; dispose it before another client (tpm2-tools) connects.</summary>
    internal SwtpmTcpTransport Connect()
    {
        var transport = new SwtpmTcpTransport("127.0.0.1", Port, TimeSpan.FromSeconds(30));
        transport.PowerOnAndStartup();
        return transport;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        finally
        {
            _process.Dispose();
            Directory.Delete(_stateDirectory, recursive: true);
        }
    }

    private void WaitUntilListening()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"swtpm exited with code {_process.ExitCode}: {_process.StandardError.ReadToEnd()}");
            }

            try
            {
                using var probe = new TcpClient();
                probe.Connect(IPAddress.Loopback, Port + 1);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(50);
            }
        }

        throw new TimeoutException($"swtpm did not listen on 127.0.0.1:{Port + 1} within 15 s.");
    }

    // swtpm needs two consecutive ports (data, control); ask the kernel for one and check its neighbour.
    private static int FreePortPair()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            using var first = new TcpListener(IPAddress.Loopback, 0);
            first.Start();
            var port = ((IPEndPoint)first.LocalEndpoint).Port;
            if (port >= 65535)
            {
                continue;
            }

            try
            {
                using var second = new TcpListener(IPAddress.Loopback, port + 1);
                second.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }

        throw new InvalidOperationException("No two consecutive free loopback ports found for swtpm.");
    }
}

/// <summary>The swtpm shared by the tests of the "swtpm" collection; each test connects and disconnects in turn.</summary>
public sealed class SwtpmFixture : IDisposable
{
    public SwtpmInstance Tpm { get; } = new();

    public void Dispose() => Tpm.Dispose();
}

[CollectionDefinition("swtpm")]
public sealed class SwtpmCollection : ICollectionFixture<SwtpmFixture>;
