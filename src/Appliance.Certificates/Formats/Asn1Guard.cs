namespace Appliance.Certificates.Formats;

/// <summary>
/// Walks BER/DER (X.690) before any parser sees it, so hostile input fails here as a clean
/// "damaged file" and never reaches BouncyCastle's recursive decoder with an absurd length or
/// nesting that could exhaust memory or the stack.
/// </summary>
internal static class Asn1Guard
{
    /// <summary>Deepest nesting accepted; a PKCS#12 certificate extension sits at about 20 levels.</summary>
    internal const int MaxDepth = 64;

    /// <summary>Why a walk stopped: the data ended early or was not ASN.1, or it was nested too deeply.</summary>
    internal enum Verdict { Ok, Malformed, TooDeep }

    /// <summary>Checks the first element of <paramref name="data"/>; <paramref name="length"/> is its encoded size
    /// (trailing bytes are left to the caller to judge).</summary>
    internal static Verdict Check(ReadOnlySpan<byte> data, out int length)
    {
        length = 0;
        try
        {
            length = Walk(data, 0);
            return length > 0 ? Verdict.Ok : Verdict.Malformed;
        }
        catch (TooDeepException)
        {
            return Verdict.TooDeep;
        }
        catch (MalformedException)
        {
            return Verdict.Malformed;
        }
    }

    private sealed class MalformedException : Exception;

    private sealed class TooDeepException : Exception;

    // Returns the encoded size of the element at the start of data.
    private static int Walk(ReadOnlySpan<byte> data, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new TooDeepException();
        }

        int pos = 0;
        if (data.Length < 2)
        {
            throw new MalformedException();
        }

        byte first = data[pos++];
        bool constructed = (first & 0x20) != 0;
        if ((first & 0x1F) == 0x1F)
        {
            // High tag number form (X.690 8.1.2.4): at most 4 continuation bytes.
            int n = 0;
            while (true)
            {
                if (pos >= data.Length || ++n > 4)
                {
                    throw new MalformedException();
                }

                if ((data[pos++] & 0x80) == 0)
                {
                    break;
                }
            }
        }

        if (pos >= data.Length)
        {
            throw new MalformedException();
        }

        byte lengthByte = data[pos++];
        if (lengthByte == 0x80)
        {
            // Indefinite length (X.690 8.1.3.6), as NSS writes PKCS#12: only for constructed
            // elements; the contents run until an end-of-contents pair 00 00.
            if (!constructed)
            {
                throw new MalformedException();
            }

            while (true)
            {
                if (pos + 2 > data.Length)
                {
                    throw new MalformedException();
                }

                if (data[pos] == 0 && data[pos + 1] == 0)
                {
                    return pos + 2;
                }

                pos += Walk(data[pos..], depth + 1);
            }
        }

        long contentLength;
        if (lengthByte < 0x80)
        {
            contentLength = lengthByte;
        }
        else
        {
            int count = lengthByte & 0x7F;
            if (count > 4 || pos + count > data.Length)
            {
                throw new MalformedException();
            }

            contentLength = 0;
            for (int i = 0; i < count; i++)
            {
                contentLength = (contentLength << 8) | data[pos++];
            }
        }

        // The absurd-length case: a length field that points past the data is refused here,
        // before any parser allocates a buffer of that size.
        if (contentLength > data.Length - pos)
        {
            throw new MalformedException();
        }

        var content = data.Slice(pos, (int)contentLength);
        if (constructed)
        {
            int inner = 0;
            while (inner < content.Length)
            {
                inner += Walk(content[inner..], depth + 1);
            }
        }
        else if (first == 0x04 && content.Length >= 2 && (content[0] == 0x30 || content[0] == 0x31))
        {
            // OCTET STRINGs carry encapsulated structures (PKCS#12 authenticated safes, PKCS#7
            // content, extension values) that parsers decode later; their depth counts too.
            // Content that does not walk as ASN.1 is opaque data and is left alone.
            try
            {
                int inner = 0;
                while (inner < content.Length)
                {
                    inner += Walk(content[inner..], depth + 1);
                }
            }
            catch (MalformedException)
            {
            }
        }

        return pos + (int)contentLength;
    }
}
