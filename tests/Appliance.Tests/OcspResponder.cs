using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Appliance.Tests;

/// <summary>
/// A real OCSP responder for the test PKI on a loopback port: each POSTed request is answered by `openssl ocsp` in
/// responder mode (index file, delegated signer issued by the intermediate CA). `openssl ocsp -port` binds every
/// address, so the HTTP part is this small loopback-only server and openssl only signs.
/// </summary>
public sealed class OcspResponder : IAsyncDisposable
{
    private readonly OpenSslFixture _pki;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly string _index;
    private int _answered;

    private readonly string _signer;

    private OcspResponder(OpenSslFixture pki, string name, string signer)
    {
        _pki = pki;
        _signer = signer;
        _index = pki.Path(name + "-index.txt");
        File.WriteAllText(_index, "");
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>
    /// Starts a responder whose index starts empty (every serial unknown until <see cref="Good"/> or <see cref="Revoked"/>),
    /// signing with the delegated responder certificate, or with <paramref name="signer"/> (a stem of the PKI, e.g. "orphan").
    /// </summary>
    public static OcspResponder Start(OpenSslFixture pki, string name, string? signer = null) =>
        new(pki, name, signer ?? pki.OcspSigner());

    public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/";

    /// <summary>How many requests it has answered.</summary>
    public int Answered => Volatile.Read(ref _answered);

    /// <summary>Lists the certificate (stem.crt) as valid in the index.</summary>
    public void Good(string stem) => AddEntry(stem, "V", "");

    /// <summary>Lists the certificate (stem.crt) as revoked in the index.</summary>
    public void Revoked(string stem) => AddEntry(stem, "R", DateTime.UtcNow.AddMinutes(-5).ToString("yyMMddHHmmss") + "Z");

    private void AddEntry(string stem, string status, string revokedAt)
    {
        var serial = OpenSslFixture.Run("x509", "-in", _pki.Path(stem + ".crt"), "-noout", "-serial").Trim().Split('=')[1];
        File.AppendAllText(_index, $"{status}\t301231235959Z\t{revokedAt}\t{serial}\tunknown\t/CN={stem}\n");
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            _ = Task.Run(() => AnswerAsync(client));
        }
    }

    private async Task AnswerAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var head = new List<byte>();
                while (!EndsWith(head, "\r\n\r\n"u8))
                {
                    var b = stream.ReadByte();
                    if (b < 0) return;
                    head.Add((byte)b);
                }
                var headers = Encoding.ASCII.GetString(head.ToArray());
                var length = int.Parse(headers.Split("\r\n").First(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)).Split(':')[1].Trim());
                var body = new byte[length];
                await stream.ReadExactlyAsync(body);
                var id = Guid.NewGuid().ToString("N");
                var request = _pki.Path($"ocsp-{id}.req");
                var response = _pki.Path($"ocsp-{id}.resp");
                await File.WriteAllBytesAsync(request, body);
                OpenSslFixture.Run("ocsp", "-index", _index, "-CA", _pki.Path("intermediate.crt"), "-rsigner", _pki.Path(_signer + ".crt"),
                    "-rkey", _pki.Path(_signer + ".key"), "-reqin", request, "-respout", response, "-ndays", "1");
                var der = await File.ReadAllBytesAsync(response);
                var answer = Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\nContent-Length: {der.Length}\r\nConnection: close\r\n\r\n");
                await stream.WriteAsync(answer);
                await stream.WriteAsync(der);
                Interlocked.Increment(ref _answered);
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or FormatException)
            {
                // The client went away or openssl refused the request: the appliance sees a failed fetch.
            }
        }
    }

    private static bool EndsWith(List<byte> bytes, ReadOnlySpan<byte> suffix)
    {
        if (bytes.Count < suffix.Length) return false;
        for (var i = 0; i < suffix.Length; i++)
            if (bytes[bytes.Count - suffix.Length + i] != suffix[i]) return false;
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
