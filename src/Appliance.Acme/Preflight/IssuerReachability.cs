using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Appliance.Acme.Preflight;

/// <summary>
/// The seed's "the appliance must be able to reach the CA's host on TCP 80 (outbound)" as a check: every http URL that
/// the Authority Information Access extension (RFC 5280 section 4.2.2.1) of earlier certificates from the same CA names,
/// the issuer's certificate (caIssuers) and its status responder (OCSP), must accept a TCP connection on its port. Only
/// a connection is opened, nothing is sent: the URLs come from certificates the CA signed, and the admin learns no more
/// than reachable or not. At most <see cref="MaxEndpoints"/> distinct host and port pairs are tried, in parallel.
/// </summary>
public static class IssuerReachability
{
    public const int MaxEndpoints = 4;
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>One URL an issued certificate names and what it is for, in words.</summary>
    public sealed record IssuerUrl(string Purpose, Uri Url);

    /// <summary>The http caIssuers and OCSP URLs of <paramref name="certificate"/>; none when the extension is absent or malformed.</summary>
    public static IReadOnlyList<IssuerUrl> UrlsOf(X509Certificate2 certificate)
    {
        var urls = new List<IssuerUrl>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != "1.3.6.1.5.5.7.1.1") continue;
            try
            {
                var access = new X509AuthorityInformationAccessExtension(extension.RawData, extension.Critical);
                foreach (var uri in access.EnumerateCAIssuersUris()) Add("certificate (AIA caIssuers) URL", uri);
                foreach (var uri in access.EnumerateOcspUris()) Add("status (OCSP) URL", uri);
            }
            catch (CryptographicException)
            {
                // a malformed extension names nothing to reach
            }
        }
        return urls;

        void Add(string purpose, string uri)
        {
            if (Uri.TryCreate(uri, UriKind.Absolute, out var parsed) && parsed.Scheme == Uri.UriSchemeHttp && parsed.IdnHost.Length > 0)
                urls.Add(new IssuerUrl(purpose, parsed));
        }
    }

    /// <summary>A warning per issuer URL whose host and port refuse or ignore a TCP connection; none when all answer.</summary>
    public static async Task<IReadOnlyList<PreflightFinding>> CheckAsync(IEnumerable<X509Certificate2> issued, CancellationToken cancellationToken)
    {
        var endpoints = issued.SelectMany(UrlsOf).DistinctBy(u => (u.Url.IdnHost, u.Url.Port)).Take(MaxEndpoints).ToList();
        var findings = await Task.WhenAll(endpoints.Select(u => ReachAsync(u, cancellationToken)));
        return findings.OfType<PreflightFinding>().ToList();
    }

    private static async Task<PreflightFinding?> ReachAsync(IssuerUrl url, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ConnectTimeout);
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(url.Url.IdnHost, url.Url.Port, timeout.Token);
            return null;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var why = e is OperationCanceledException ? $"no answer within {ConnectTimeout.TotalSeconds:0} s" : AcmePreflight.Innermost(e);
            return new PreflightFinding(AcmePreflight.IssuerCheck, PreflightSeverity.Warning,
                $"This appliance could not reach the issuer's {url.Purpose} {url.Url} on TCP port {url.Url.Port} ({why}). "
                + $"Certificates from this CA name it, and this appliance's OCSP stapling and many clients fetch it: allow outbound TCP {url.Url.Port} "
                + $"to {url.Url.IdnHost} and check the appliance's DNS servers and default gateway.");
        }
    }
}
