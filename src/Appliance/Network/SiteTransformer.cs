using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace Appliance.Network;

/// <summary>
/// What a forwarded site request and its response carry beyond YARP's own copying (which already leaves out the
/// hop-by-hop fields of RFC 9110 7.6.1 and builds the target as the fixed upstream prefix plus the request's path):
/// fields named in <c>Connection</c> and a client's forwarding claims are dropped, the appliance's own
/// <c>X-Forwarded-*</c> and <c>Forwarded</c> are set, the appliance's cookies neither go up nor come down.
/// </summary>
internal sealed class SiteTransformer : HttpTransformer
{
    public static readonly SiteTransformer Instance = new();

    private SiteTransformer() { }

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        var request = httpContext.Request;
        proxyRequest.RequestUri = DestinationAddress(destinationPrefix, request);

        // RFC 9110 7.6.1: a proxy removes the fields the Connection field names (a client could otherwise have the
        // appliance pass on, or strip, any field it likes).
        foreach (var name in request.Headers.GetCommaSeparatedValues(HeaderNames.Connection)) Remove(proxyRequest, name);
        foreach (var name in proxyRequest.Headers.NonValidated.Select(h => h.Key).Where(ForwardingHeaders.IsClientClaim).ToList())
            proxyRequest.Headers.Remove(name);

        if (request.Headers.Cookie.Count > 0)
        {
            proxyRequest.Headers.Remove(HeaderNames.Cookie);
            if (ApplianceCookies.WithoutApplianceCookies(request.Headers.Cookie) is { } cookies)
                proxyRequest.Headers.TryAddWithoutValidation(HeaderNames.Cookie, cookies);
        }

        var host = request.Host.HasValue ? request.Host.Value : null;
        proxyRequest.Headers.TryAddWithoutValidation(ForwardingHeaders.XForwardedFor, ForwardingHeaders.ClientAddress(httpContext.Connection.RemoteIpAddress));
        proxyRequest.Headers.TryAddWithoutValidation(ForwardingHeaders.XForwardedProto, "https");
        if (host is not null) proxyRequest.Headers.TryAddWithoutValidation(ForwardingHeaders.XForwardedHost, host);
        proxyRequest.Headers.TryAddWithoutValidation(ForwardingHeaders.ForwardedName, ForwardingHeaders.Forwarded(httpContext.Connection.RemoteIpAddress, host));
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        var copy = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken);
        if (proxyResponse is null) return copy;
        var headers = httpContext.Response.Headers;
        foreach (var name in proxyResponse.Headers.Connection) headers.Remove(name);
        DropApplianceCookies(headers);
        return copy;
    }

    public override async ValueTask TransformResponseTrailersAsync(HttpContext httpContext, HttpResponseMessage proxyResponse, CancellationToken cancellationToken)
    {
        await base.TransformResponseTrailersAsync(httpContext, proxyResponse, cancellationToken);
        if (httpContext.Features.Get<IHttpResponseTrailersFeature>()?.Trailers is { IsReadOnly: false } trailers) DropApplianceCookies(trailers);
    }

    /// <summary>An upstream Set-Cookie for /appliance, or with an appliance cookie's name, never reaches the browser.</summary>
    private static void DropApplianceCookies(IHeaderDictionary headers)
    {
        var cookies = headers.SetCookie;
        if (cookies.Count == 0) return;
        var kept = cookies.Where(c => c is not null && !ApplianceCookies.IsForAppliance(c)).ToArray();
        if (kept.Length == cookies.Count) return;
        if (kept.Length == 0) headers.Remove(HeaderNames.SetCookie);
        else headers.SetCookie = new StringValues(kept);
    }

    /// <summary>
    /// The configured prefix plus the request's path and query (YARP's own escaping: the path stays a path).
    /// Kestrel leaves an encoded slash encoded in the decoded path ("/a%2Fb"), and YARP escapes its '%' once more;
    /// the upstream gets "%2F" back, as the client sent it.
    /// </summary>
    private static Uri DestinationAddress(string prefix, HttpRequest request)
    {
        var path = RequestUtilities.MakeDestinationAddress(prefix, request.Path, QueryString.Empty).OriginalString;
        if (path.Contains("%252F", StringComparison.OrdinalIgnoreCase)) path = path.Replace("%252F", "%2F", StringComparison.OrdinalIgnoreCase);
        return new Uri(path + request.QueryString.ToUriComponent(), UriKind.Absolute);
    }

    /// <summary>Removes a field from the request or its content, whichever holds it; a name that is no valid field was never copied.</summary>
    private static void Remove(HttpRequestMessage message, string name)
    {
        if (message.Headers.NonValidated.Contains(name)) message.Headers.Remove(name);
        if (message.Content is { } content && content.Headers.NonValidated.Contains(name)) content.Headers.Remove(name);
    }
}
