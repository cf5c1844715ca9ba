using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Appliance.Certificates;

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

    /// <summary>A warning per issuer URL whose host and port refuse or ignore a TCP connection; none when all answer.</summary>
    public static async Task<IReadOnlyList<PreflightFinding>> CheckAsync(IEnumerable<X509Certificate2> issued, CancellationToken cancellationToken)
    {
        var endpoints = issued.SelectMany(AuthorityInformationAccess.HttpUrls).DistinctBy(u => (u.Url.IdnHost, u.Url.Port)).Take(MaxEndpoints).ToList();
        var findings = await Task.WhenAll(endpoints.Select(u => ReachAsync(u, cancellationToken)));
        return findings.OfType<PreflightFinding>().ToList();
    }

    private static async Task<PreflightFinding?> ReachAsync(AuthorityInformationAccess.AccessUrl url, CancellationToken cancellationToken)
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
