using System.Net.Sockets;
using System.Text;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Appliance.Platform.Email;

/// <summary>Sends plain-text mail over SMTP with MailKit; every failure becomes an <see cref="EmailException"/> in words.</summary>
public sealed class SmtpMailer
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    // MimeKit decodes non-Latin-1 charsets through the code-page encodings, which .NET only has once registered.
    static SmtpMailer() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>Sends to every recipient of <paramref name="settings"/> (whether enabled or not: the caller decides).</summary>
    public async Task SendAsync(SmtpSettings settings, string subject, string body, CancellationToken cancellationToken)
    {
        var message = Compose(settings, subject, body);
        using var client = new SmtpClient { Timeout = (int)Timeout.TotalMilliseconds };
        var where = $"{settings.Server}:{settings.Port}";
        string? untrusted = null;
        client.ServerCertificateValidationCallback = (_, certificate, chain, errors) =>
        {
            untrusted = SmtpServerTrust.Check(certificate, chain, errors, settings.TrustedCertificate);
            return untrusted is null;
        };
        try
        {
            var options = settings.Security switch
            {
                SmtpSecurity.None => SecureSocketOptions.None,
                SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
                _ => SecureSocketOptions.SslOnConnect,
            };
            await client.ConnectAsync(settings.Server, settings.Port, options, cancellationToken);
            if (!string.IsNullOrEmpty(settings.Username))
                await client.AuthenticateAsync(settings.Username, settings.Password ?? "", cancellationToken);
            await client.SendAsync(message, cancellationToken);
            await client.DisconnectAsync(true, cancellationToken);
        }
        catch (AuthenticationException e)
        {
            throw new EmailException(EmailFailure.Authentication,
                $"The SMTP server {where} refused the login of '{settings.Username}' ({e.Message.Trim().TrimEnd('.')}). Check the username and password.", e);
        }
        catch (SslHandshakeException e) when (untrusted is not null)
        {
            throw new EmailException(EmailFailure.Tls,
                $"The SMTP server {where} is not trusted: {untrusted}. If it is the right server, paste the certificate of the CA that issued its certificate "
                + "(or its own self-signed certificate) as the trusted certificate in the email settings.", e);
        }
        catch (SslHandshakeException e)
        {
            throw new EmailException(EmailFailure.Tls,
                $"TLS with the SMTP server {where} failed: {FirstLine(e.Message)} Check the security setting (none, STARTTLS or TLS) and that the server's certificate is trusted.", e);
        }
        catch (NotSupportedException e) when (settings.Security == SmtpSecurity.StartTls)
        {
            throw new EmailException(EmailFailure.Tls, $"The SMTP server {where} does not offer STARTTLS: {e.Message} Choose TLS or none.", e);
        }
        catch (SmtpCommandException e)
        {
            throw new EmailException(EmailFailure.Refused,
                $"The SMTP server {where} refused the mail ({(int)e.StatusCode} {e.Message.Trim()}). Check the sender and the recipients.", e);
        }
        catch (SmtpProtocolException e)
        {
            throw new EmailException(EmailFailure.Unreachable, $"The SMTP server {where} broke the conversation: {e.Message}", e);
        }
        catch (SocketException e)
        {
            throw new EmailException(EmailFailure.Unreachable, $"The SMTP server {where} could not be reached: {e.Message}. Check the server name and port.", e);
        }
        catch (Exception e) when (e is TimeoutException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new EmailException(EmailFailure.Unreachable, $"The SMTP server {where} did not answer in time or closed the connection: {e.Message}", e);
        }
    }

    internal static MimeMessage Compose(SmtpSettings settings, string subject, string body)
    {
        if (!MailboxAddress.TryParse(settings.Sender, out var sender))
            throw new EmailException(EmailFailure.Invalid, $"The sender '{settings.Sender}' is not an email address.");
        var message = new MimeMessage { Subject = subject, Body = new TextPart("plain") { Text = body } };
        message.From.Add(sender);
        foreach (var recipient in settings.Recipients)
        {
            if (!MailboxAddress.TryParse(recipient, out var to))
                throw new EmailException(EmailFailure.Invalid, $"The recipient '{recipient}' is not an email address.");
            message.To.Add(to);
        }
        if (message.To.Count == 0) throw new EmailException(EmailFailure.Invalid, "There are no recipients: add at least one email address.");
        return message;
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}
