using System.Net;
using System.Net.Sockets;
using System.Text.Encodings.Web;

namespace Appliance.Network;

/// <summary>
/// HTTPS requests outside /appliance are the site: a plain landing page naming the site's host name, or, with an
/// upstream configured (<c>--site-upstream http://127.0.0.1:PORT</c> or <c>unix:/path/to.sock</c>), the decrypted
/// traffic forwarded there with X-Forwarded-For/-Proto/-Host. /appliance is never forwarded. The per-address
/// switches apply: where the site (or /appliance) is off, that part answers 404.
/// </summary>
internal sealed class SiteMiddleware(RequestDelegate next, AddressAccess access, SiteUpstream upstream)
{
    // RFC 9110 7.6.1: connection-specific fields are not forwarded.
    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Proxy-Connection", "Proxy-Authenticate", "Proxy-Authorization", "TE", "Trailer", "Transfer-Encoding", "Upgrade",
    };

    public async Task InvokeAsync(HttpContext context)
    {
        var local = context.Connection.LocalIpAddress ?? IPAddress.None;
        if (context.Request.Path.StartsWithSegments("/appliance"))
        {
            if (!access.ApplianceAllowed(local))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            // Requests run inline on the socket thread (ApplianceServer): /appliance work (SQLite, password
            // hashing, imports) moves to the thread pool so it never holds up other connections' I/O.
            await Task.Yield();
            await next(context);
            return;
        }
        if (!access.SiteAllowed(local))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        if (upstream.Client is null)
        {
            await Landing(context);
            return;
        }
        await Forward(context, upstream);
    }

    private static async Task Landing(HttpContext context)
    {
        var host = HtmlEncoder.Default.Encode(context.Request.Host.Host);
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        // One write with a length: headers and body leave in one TLS record, not chunked with a trailer write.
        var body = System.Text.Encoding.UTF8.GetBytes($"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>{host}</title>
            <style>body{"{"}font:16px/1.5 system-ui,sans-serif;margin:4rem auto;max-width:40rem;color:#1d2433{"}"}</style></head>
            <body><h1>{host}</h1><p>This site is served securely by a B Series appliance.</p></body></html>
            """);
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body);
    }

    private static async Task Forward(HttpContext context, SiteUpstream upstream)
    {
        var request = context.Request;
        var target = new Uri(upstream.BaseUri!, request.Path.ToUriComponent() + request.QueryString.ToUriComponent());
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), target);
        if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
            message.Content = new StreamContent(request.Body);
        foreach (var header in request.Headers)
        {
            if (HopByHop.Contains(header.Key) || header.Key.StartsWith("X-Forwarded-", StringComparison.OrdinalIgnoreCase)) continue;
            if (header.Key.Equals("Host", StringComparison.OrdinalIgnoreCase)) continue;
            if (!message.Headers.TryAddWithoutValidation(header.Key, header.Value.ToArray()))
                message.Content?.Headers.TryAddWithoutValidation(header.Key, header.Value.ToArray());
        }
        message.Headers.Host = request.Host.Value;
        // The client's own X-Forwarded-* are dropped above: only what this appliance saw is passed on.
        message.Headers.TryAddWithoutValidation("X-Forwarded-For", context.Connection.RemoteIpAddress?.ToString());
        message.Headers.TryAddWithoutValidation("X-Forwarded-Proto", "https");
        message.Headers.TryAddWithoutValidation("X-Forwarded-Host", request.Host.Value);

        HttpResponseMessage response;
        try
        {
            // HttpMessageInvoker does not buffer: the body streams through.
            response = await upstream.Client!.SendAsync(message, context.RequestAborted);
        }
        catch (HttpRequestException)
        {
            context.Response.StatusCode = StatusCodes.Status502BadGateway;
            context.Response.ContentType = "text/plain; charset=utf-8";
            await context.Response.WriteAsync("The site's upstream server did not answer.");
            return;
        }
        using (response)
        {
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var header in response.Headers.Concat(response.Content.Headers))
                if (!HopByHop.Contains(header.Key)) context.Response.Headers[header.Key] = header.Value.ToArray();
            await response.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }
}

/// <summary>The site's upstream: HTTP on a local port, or a Unix socket; none by default.</summary>
internal sealed class SiteUpstream
{
    public SiteUpstream(string? upstream)
    {
        if (string.IsNullOrEmpty(upstream)) return;
        if (upstream.StartsWith("unix:", StringComparison.Ordinal))
        {
            var path = upstream["unix:".Length..];
            var handler = new SocketsHttpHandler
            {
                UseProxy = false,
                AllowAutoRedirect = false,
                UseCookies = false,
                ConnectCallback = async (_, token) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(path), token);
                    return new NetworkStream(socket, ownsSocket: true);
                },
            };
            BaseUri = new Uri("http://localhost/");
            Client = new HttpMessageInvoker(handler);
            return;
        }
        if (!Uri.TryCreate(upstream, UriKind.Absolute, out var uri) || uri.Scheme != "http")
            throw new ArgumentException($"--site-upstream {upstream}: give http://HOST:PORT or unix:/path/to.sock.");
        BaseUri = uri;
        Client = new HttpMessageInvoker(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false });
    }

    public Uri? BaseUri { get; }
    public HttpMessageInvoker? Client { get; }
}
