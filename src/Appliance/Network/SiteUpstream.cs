using System.Net.Sockets;

namespace Appliance.Network;

/// <summary>
/// The site's upstream (<c>--site-upstream</c>): HTTP on a host and port, or a Unix socket; none by default. The
/// destination prefix is made from this configuration alone, so no request can choose the host, port or scheme.
/// </summary>
internal sealed class SiteUpstream
{
    public SiteUpstream(string? upstream, TimeSpan connectTimeout)
    {
        if (string.IsNullOrEmpty(upstream)) return;
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
            UseCookies = false,
            // No W3C trace headers of our own; the client's traceparent passes as any other field.
            ActivityHeadersPropagator = null,
            ConnectTimeout = connectTimeout,
        };
        if (upstream.StartsWith("unix:", StringComparison.Ordinal))
        {
            var path = upstream["unix:".Length..];
            handler.ConnectCallback = async (_, token) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), token);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            };
            DestinationPrefix = "http://localhost/";
        }
        else
        {
            if (!Uri.TryCreate(upstream, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttp)
                throw new ArgumentException($"--site-upstream {upstream}: give http://HOST:PORT or unix:/path/to.sock.");
            // Scheme, authority and the configured path; the request's path is appended to it as a path.
            DestinationPrefix = uri.GetLeftPart(UriPartial.Path);
        }
        Invoker = new HttpMessageInvoker(handler);
    }

    /// <summary>Scheme, host, port (and a configured path) of every forwarded request.</summary>
    public string? DestinationPrefix { get; }
    public HttpMessageInvoker? Invoker { get; }
}
