using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Appliance.Acme.Tests.Infrastructure;

namespace Appliance.Tests;

/// <summary>
/// Pebble's own directory with <c>meta.caaIdentities</c> added (pebble 2.4 names none), served over HTTPS under pebble's
/// test TLS certificate: the directory object of RFC 8555 section 7.1.1 is all it serves, and its URLs still lead to pebble.
/// </summary>
public sealed class CaaDirectory : IDisposable
{
    private readonly X509Certificate2 _certificate;
    private readonly byte[] _body;
    private readonly TcpAcceptLoop _loop;

    private CaaDirectory(X509Certificate2 certificate, byte[] body)
    {
        _certificate = certificate;
        _body = body;
        _loop = new TcpAcceptLoop(new TcpListener(IPAddress.Loopback, 0), ServeAsync);
    }

    public Uri DirectoryUrl => new($"https://127.0.0.1:{_loop.Port}/dir");

    public static async Task<CaaDirectory> StartAsync(AcmeBox box, params string[] caaIdentities)
    {
        using var http = box.PebbleHttpClient();
        var directory = JsonNode.Parse(await http.GetStringAsync(box.Pebble.DirectoryUrl))!.AsObject();
        if (directory["meta"] is not JsonObject meta) directory["meta"] = meta = new JsonObject();
        meta["caaIdentities"] = new JsonArray(caaIdentities.Select(i => (JsonNode)JsonValue.Create(i)).ToArray());
        return new CaaDirectory(X509Certificate2.CreateFromPemFile(box.Tls.CertificatePath, box.Tls.KeyPath), Encoding.UTF8.GetBytes(directory.ToJsonString()));
    }

    private async Task ServeAsync(TcpClient client, CancellationToken cancellationToken)
    {
        await using var tls = new SslStream(client.GetStream());
        await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = _certificate }, cancellationToken);
        var head = new StringBuilder();
        var buffer = new byte[4096];
        while (!head.ToString().Contains("\r\n\r\n"))
        {
            var read = await tls.ReadAsync(buffer, cancellationToken);
            if (read == 0) return;
            head.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        var found = head.ToString().StartsWith("GET /dir ", StringComparison.Ordinal);
        var body = found ? _body : "{}"u8.ToArray();
        await tls.WriteAsync(Encoding.ASCII.GetBytes($"HTTP/1.1 {(found ? "200 OK" : "404 Not Found")}\r\nContent-Type: application/json\r\n"
            + $"Content-Length: {body.Length}\r\nConnection: close\r\n\r\n"), cancellationToken);
        await tls.WriteAsync(body, cancellationToken);
    }

    public void Dispose()
    {
        _loop.Dispose();
        _certificate.Dispose();
    }
}
