using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Appliance.Acme;

/// <summary>The HttpClient ACME servers are reached with: system trust, or an extra CA file for test and private CAs.</summary>
public static class AcmeHttp
{
    public const string CaFileVariable = "APPLIANCE_ACME_CA_FILE";

    /// <summary>
    /// A client that trusts the system roots, or, with <paramref name="caFile"/> (PEM, one or more certificates), only
    /// those certificates as roots: a private ACME server (or pebble in tests) under its own CA.
    /// </summary>
    public static HttpClient CreateClient(string? caFile, TimeSpan? timeout = null)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(15),
            AllowAutoRedirect = false,
        };
        if (!string.IsNullOrEmpty(caFile))
        {
            var roots = new X509Certificate2Collection();
            try
            {
                roots.ImportFromPemFile(caFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                throw new ArgumentException($"The ACME CA file {caFile} cannot be read as PEM certificates: {e.Message}", e);
            }
            if (roots.Count == 0) throw new ArgumentException($"The ACME CA file {caFile} holds no PEM certificate.");
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                CertificateChainPolicy = new X509ChainPolicy
                {
                    TrustMode = X509ChainTrustMode.CustomRootTrust,
                    RevocationMode = X509RevocationMode.NoCheck,
                    CustomTrustStore = { },
                },
            };
            handler.SslOptions.CertificateChainPolicy.CustomTrustStore.AddRange(roots);
        }
        // Answers read whole by the client (the pre-flight's directory and port 80 probes) stop at the ACME client's own cap.
        return new HttpClient(handler) { Timeout = timeout ?? TimeSpan.FromSeconds(30), MaxResponseContentBufferSize = AcmeClient.MaxBodyBytes };
    }
}
