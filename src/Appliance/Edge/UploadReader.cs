using Appliance.Certificates.Formats;
using Microsoft.AspNetCore.Http.Features;

namespace Appliance.Edge;

/// <summary>The files and the password of one upload.</summary>
internal sealed record Upload(IReadOnlyList<ImportFile> Files, string? Password);

/// <summary>
/// Reads a certificate upload (multipart/form-data: one or more file parts and an optional <c>password</c>) for the
/// API's import and the Import page alike, within <see cref="UploadLimits"/>; a refusal says which limit, with its value.
/// </summary>
internal static class UploadReader
{
    /// <summary>COR_E_IO: the HResult of an IOException raised by .NET itself (the multipart reader), not by a system call.</summary>
    private const int UnexpectedEnd = unchecked((int)0x80131620);

    /// <summary>The upload routes: the only requests whose body may exceed <see cref="RequestLimits.MaxJsonBytes"/>.</summary>
    public static bool IsUpload(HttpContext context) =>
        HttpMethods.IsPost(context.Request.Method)
        && (context.Request.Path.Equals(EdgePaths.ApiImport, StringComparison.Ordinal) || context.Request.Path.Equals(EdgePaths.PageImport, StringComparison.Ordinal));

    /// <summary>Raises Kestrel's body limit to <see cref="UploadLimits.MaxBytes"/> on an upload route, before anything reads the body (anti-forgery reads the form).</summary>
    public static void AllowUploadBody(HttpContext context)
    {
        if (IsUpload(context) && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
            size.MaxRequestBodySize = UploadLimits.MaxBytes;
    }

    public static async Task<Upload> ReadAsync(HttpContext context)
    {
        if (context.Request.ContentLength > UploadLimits.MaxBytes)
            throw new RequestException(RequestFailure.TooLarge,
                $"The upload is {context.Request.ContentLength} bytes; files of at most {UploadLimits.MaxBytes / (1024 * 1024)} MB in all can be imported at once.");
        if (!context.Request.HasFormContentType)
            throw new RequestException(RequestFailure.UnsupportedMediaType,
                "Upload the files as multipart/form-data with one or more 'file' parts and an optional 'password'.");
        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (InvalidDataException e)
        {
            throw new RequestException(RequestFailure.Invalid, $"The upload is not a valid multipart form: {e.Message}");
        }
        catch (IOException e) when (e.GetType() == typeof(IOException) && e.HResult == UnexpectedEnd)
        {
            // A body that ends before the closing boundary; an I/O error of the system (a full disk) carries its errno instead.
            throw new RequestException(RequestFailure.Invalid, $"The upload is not a valid multipart form: {e.Message}");
        }
        // Every file part is read, an empty one too (the import refuses it by name). A file input left empty is no
        // file part: browsers send it with filename="", which ASP.NET reads as a form field.
        var parts = form.Files;
        if (parts.Count > UploadLimits.MaxFiles)
            throw new RequestException(RequestFailure.Invalid,
                $"The upload holds {parts.Count} files; at most {UploadLimits.MaxFiles} can be imported at once. Import them in several uploads.");
        var files = new List<ImportFile>(parts.Count);
        foreach (var part in parts)
        {
            var name = Path.GetFileName(part.FileName);
            if (string.IsNullOrWhiteSpace(name)) name = part.Name;
            if (name.Length > UploadLimits.MaxFileNameLength)
                throw new RequestException(RequestFailure.Invalid,
                    $"A file name is {name.Length} characters long; at most {UploadLimits.MaxFileNameLength} are accepted. Rename the file ('{name[..40]}...') and upload it again.");
            using var buffer = new MemoryStream();
            await part.CopyToAsync(buffer, context.RequestAborted);
            files.Add(new ImportFile(name, buffer.ToArray()));
        }
        var password = form["password"].ToString();
        if (password.Length > UploadLimits.MaxPasswordLength)
            throw new RequestException(RequestFailure.Invalid,
                $"The password is {password.Length} characters long; at most {UploadLimits.MaxPasswordLength} are accepted.");
        // An empty password field is no password (a form always sends the field).
        return new Upload(files, password.Length == 0 ? null : password);
    }
}
