using Appliance.Accounts;
using Appliance.Certificates.Formats;
using Appliance.Certificates.Store;
using Microsoft.AspNetCore.Http;

namespace Appliance.Api;

/// <summary>Maps the domain's refusals to problem+json at the boundary, logging each once.</summary>
internal sealed partial class ErrorMiddleware(RequestDelegate next, ILogger<ErrorMiddleware> logger, Hosting.StatePartition partition)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.Response.HasStarted
            && (Hosting.StatePartition.IsFull(e) ? (507, partition.FullDetail()) : Describe(e)) is { } mapped)
        {
            // Outside text is escaped before it reaches a log line; refusals without a signed-in admin are the audit
            // log's to count (a flood would otherwise write a line per request).
            var method = Audit.SafeText.Escape(context.Request.Method, Audit.AuditLog.MaxMethodLength);
            var path = Audit.SafeText.Escape(context.Request.Path.Value ?? "", Audit.AuditLog.MaxNameLength);
            if (mapped.Status == 507) LogFull(logger, method, path, mapped.Detail);
            else if (mapped.Status >= 500) LogFailure(logger, e, method, path);
            else if (AuthenticationMiddleware.TryAccountOf(context) is not null)
                LogRefusal(logger, method, path, mapped.Status, Audit.SafeText.Escape(mapped.Detail, Audit.AuditLog.MaxDetailLength));
            context.Response.Clear();
            if (e is AccountException { RetryAfter: { } wait }) context.Response.Headers.RetryAfter = LoginThrottle.RetryAfterHeader(wait);
            if (ApiEndpoints.IsApi(context.Request.Path))
                await ApiEndpoints.Problem(mapped.Status, mapped.Detail).ExecuteAsync(context);
            else
                await Ui.AntiforgeryCheck.WritePlainPage(context, mapped.Status, mapped.Detail);
        }
    }

    /// <summary>The status and the admin-facing words for a refusal; null for a cancelled request.</summary>
    internal static (int Status, string Detail)? Describe(Exception e) => e switch
    {
        ApiException a => (a.Status, a.Message),
        AccountException a => (a.Status, a.Message),
        CertificateImportException i => (400, i.Message),
        CertificateRequestException r => (400, r.Message),
        CertificateExportException x => (400, x.Message),
        CertificateStoreException s => (s.Reason switch
        {
            StoreFailure.NotFound => 404,
            StoreFailure.InUse => 409,
            StoreFailure.Conflict => 409,
            StoreFailure.KeyUnavailable => 503,
            _ => 400,
        }, s.Message),
        BadHttpRequestException b when b.StatusCode == 413 =>
            (413, $"The upload is larger than the {ApiEndpoints.MaxImportBytes / (1024 * 1024)} MB accepted; import fewer or smaller files at a time."),
        BadHttpRequestException b => (b.StatusCode, b.Message),
        OperationCanceledException => null,
        _ => (500, "The appliance failed to complete the request; the service log has the details. Try again, and contact support if it persists."),
    };

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "{Method} {Path} refused with {Status}: {Detail}")]
    private static partial void LogRefusal(ILogger logger, string method, string path, int status, string detail);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "{Method} {Path} refused with 507: {Detail}")]
    private static partial void LogFull(ILogger logger, string method, string path, string detail);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    private static partial void LogFailure(ILogger logger, Exception exception, string method, string path);
}
