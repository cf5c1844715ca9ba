using System.Text;

namespace Appliance.Certificates.Formats;

/// <summary>One "-----BEGIN label-----" block of an RFC 7468 text file, with its RFC 1421 headers
/// (legacy OpenSSL encryption writes "Proc-Type" and "DEK-Info" there).</summary>
internal sealed record PemBlock(string Label, bool HasHeaders, byte[] Der, string Text)
{
    /// <summary>True when the bytes look like a PEM file (possibly with explanatory text around the blocks).</summary>
    internal static bool LooksLikePem(ReadOnlySpan<byte> content) => content.IndexOf("-----BEGIN "u8) >= 0;

    /// <summary>Splits the file into blocks; stops with TooManyObjects as soon as <paramref name="maxBlocks"/> is passed,
    /// so a file with thousands of certificates is refused before it is decoded.</summary>
    internal static List<PemBlock> Parse(ReadOnlySpan<byte> content, string fileName, int maxBlocks)
    {
        // Latin-1 maps every byte to one char, so odd bytes in the surrounding text cannot fail decoding.
        string text = Encoding.Latin1.GetString(content);
        var blocks = new List<PemBlock>();
        int pos = 0;
        while (true)
        {
            int begin = text.IndexOf("-----BEGIN ", pos, StringComparison.Ordinal);
            if (begin < 0)
            {
                break;
            }

            int labelStart = begin + "-----BEGIN ".Length;
            int labelEnd = text.IndexOf("-----", labelStart, StringComparison.Ordinal);
            int lineEnd = text.IndexOf('\n', labelStart);
            if (labelEnd < 0 || (lineEnd >= 0 && labelEnd > lineEnd) || labelEnd - labelStart > 64)
            {
                throw ImportErrors.Damaged(fileName, "a \"-----BEGIN\" line is incomplete");
            }

            string label = text[labelStart..labelEnd];
            string endMarker = "-----END " + label + "-----";
            // After the BEGIN line's closing dashes: "-----BEGIN X---------END X-----" shares dashes between the two
            // lines and is no block (found by fuzzing; it made the body's length negative).
            int end = text.IndexOf(endMarker, labelEnd + 5, StringComparison.Ordinal);
            if (end < 0)
            {
                throw ImportErrors.Damaged(fileName, $"the \"{label}\" block has no \"-----END {label}-----\" line (the file seems cut off)");
            }

            if (blocks.Count == maxBlocks)
            {
                throw new CertificateImportException(ImportFailureReason.TooManyObjects, fileName,
                    $"{fileName}: the file holds more than {maxBlocks} PEM blocks; at most {CertificateFileReader.MaxCertificatesPerFile} certificates are accepted per file. Split it into smaller files.");
            }

            string body = text[(labelEnd + 5)..end];
            bool hasHeaders = body.Contains(':', StringComparison.Ordinal);
            string base64 = hasHeaders ? StripHeaders(body) : body;
            byte[] der;
            try
            {
                der = Convert.FromBase64String(base64);
            }
            catch (FormatException)
            {
                throw ImportErrors.Damaged(fileName, $"the \"{label}\" block is not valid Base64");
            }

            if (der.Length == 0)
            {
                throw ImportErrors.Damaged(fileName, $"the \"{label}\" block is empty");
            }

            int blockEnd = end + endMarker.Length;
            blocks.Add(new PemBlock(label, hasHeaders, der, text[begin..blockEnd]));
            pos = blockEnd;
        }

        return blocks;
    }

    // RFC 1421 4.4: header lines, then an empty line, then the Base64 text.
    private static string StripHeaders(string body)
    {
        var lines = body.Replace("\r", "", StringComparison.Ordinal).Split('\n');
        var sb = new StringBuilder();
        bool inHeaders = true;
        foreach (string line in lines)
        {
            if (inHeaders)
            {
                if (line.Contains(':', StringComparison.Ordinal) || line.StartsWith(' ') || line.StartsWith('\t'))
                {
                    continue;
                }

                if (line.Trim().Length == 0)
                {
                    continue;
                }

                inHeaders = false;
            }

            sb.Append(line);
        }

        return sb.ToString();
    }
}
