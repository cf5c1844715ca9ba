using System.Net;

namespace Appliance.Tests.Hostile;

/// <summary>An HTTPS client to the appliance whose connections come from a chosen loopback address (127.0.0.2, ...).</summary>
public static class SourceAddressClient
{
    public static HttpClient Create(ApplianceProcess appliance, string sourceAddress, int maxConnections = 16)
    {
        var source = IPAddress.Parse(sourceAddress);
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            AllowAutoRedirect = false,
            UseCookies = false,
            SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true },
            ConnectCallback = ApplianceProcess.ConnectFrom(source),
        };
        return new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{appliance.HttpsPort}/"), Timeout = TimeSpan.FromSeconds(60) };
    }
}
