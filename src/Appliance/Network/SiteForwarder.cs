using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace Appliance.Network;

/// <summary>
/// Forwards a site request to the configured upstream with YARP's direct forwarder: bodies stream both ways up to
/// <c>--site-max-body</c>, WebSocket (HTTP/1.1 Upgrade) connections pass through, and a silent upstream answers
/// 504 after <c>--site-timeout</c>.
/// </summary>
internal sealed partial class SiteForwarder(IHttpForwarder forwarder, SiteUpstream upstream, long maxBody, TimeSpan timeout, ILogger<SiteForwarder> logger)
{
    private readonly ForwarderRequestConfig _config = new()
    {
        // Idle time, reset on every read or write: a long download or a WebSocket that talks is never cut off.
        ActivityTimeout = timeout,
        // HTTP/1.1 to the upstream: plain-text HTTP/2 is not negotiated, and Upgrade needs 1.1.
        Version = System.Net.HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
    };

    public bool HasUpstream => upstream.Invoker is not null;

    public async Task ForwardAsync(HttpContext context)
    {
        var request = context.Request;
        if (HttpMethods.IsConnect(request.Method))
        {
            // A tunnel would let the client pick the destination; the site is one upstream only.
            context.Response.Headers.Allow = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE";
            await Text(context, StatusCodes.Status405MethodNotAllowed, "The site does not tunnel: CONNECT is refused.");
            return;
        }
        if (request.ContentLength > maxBody)
        {
            // Refused before any upstream connection; the unread body is not drained, the connection closes.
            context.Response.Headers.Connection = "close";
            await Text(context, StatusCodes.Status413PayloadTooLarge, $"The request body ({request.ContentLength} bytes) is larger than this site accepts ({maxBody} bytes).");
            return;
        }
        // Kestrel's global limit is the /appliance JSON limit; the site's is its own. A chunked body that grows past
        // it fails the read: the upstream sees a cut-off body, the client 413.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = maxBody;

        var error = await forwarder.SendAsync(context, upstream.DestinationPrefix!, upstream.Invoker!, _config, SiteTransformer.Instance);
        if (error == ForwarderError.None) return;
        var reason = context.Features.Get<IForwarderErrorFeature>()?.Exception?.GetBaseException().Message ?? "";
        if (ClientCaused(error)) LogClientFailed(logger, error, context.Response.StatusCode, reason);
        else LogUpstreamFailed(logger, error, context.Response.StatusCode, reason);
        if (context.Response.HasStarted) return;
        var words = context.Response.StatusCode switch
        {
            StatusCodes.Status502BadGateway => "The site's upstream server did not answer.",
            StatusCodes.Status504GatewayTimeout => $"The site's upstream server did not answer within {timeout.TotalSeconds:0} seconds.",
            StatusCodes.Status413PayloadTooLarge => $"The request body is larger than this site accepts ({maxBody} bytes).",
            _ => null,
        };
        if (words is not null) await Text(context, context.Response.StatusCode, words);
    }

    private static Task Text(HttpContext context, int status, string text)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(text);
    }

    /// <summary>The client went away, sent a broken or oversized body: nothing for the admin to fix.</summary>
    private static bool ClientCaused(ForwarderError error) => error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled
        or ForwarderError.RequestBodyClient or ForwarderError.ResponseBodyClient or ForwarderError.ResponseBodyCanceled
        or ForwarderError.UpgradeRequestClient or ForwarderError.UpgradeRequestCanceled or ForwarderError.UpgradeResponseClient
        or ForwarderError.UpgradeResponseCanceled;

    [LoggerMessage(EventId = EventIds.Site.UpstreamFailed, Level = LogLevel.Warning, Message = "Site request failed at the upstream ({Error}, answered {Status}): {Reason}")]
    private static partial void LogUpstreamFailed(ILogger logger, ForwarderError error, int status, string reason);

    [LoggerMessage(EventId = EventIds.Site.ClientEnded, Level = LogLevel.Debug, Message = "Site request ended by the client ({Error}, answered {Status}): {Reason}")]
    private static partial void LogClientFailed(ILogger logger, ForwarderError error, int status, string reason);
}
