package dev.closewatch.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * The bearer-token options of every command that asks a running instance's admin API
 * ({@code report}, {@code healthcheck}): {@code --token TOKEN} or {@code --token-file FILE}, at
 * most one of them (a picocli {@code @Mixin}). The token is sent as
 * {@code Authorization: Bearer <token>} (RFC 6750 §2.1) by
 * {@link dev.closewatch.report.AdminClient}.
 */
final class AdminTokenOptions {

    /** RFC 6750 §2.1 {@code b64token}, the shape {@code admin.token} must have. */
    private static final Pattern B64TOKEN = Pattern.compile("[A-Za-z0-9._~+/-]+=*");

    @ArgGroup(exclusive = true)
    Choice choice;

    static final class Choice {
        @Option(names = "--token", paramLabel = "TOKEN",
                description = "the instances' admin.token, sent as Authorization: Bearer (default: none)")
        String value;

        @Option(names = "--token-file", paramLabel = "FILE",
                description = "a file holding the admin.token, surrounding whitespace ignored (default: none)")
        Path file;
    }

    /**
     * The token to send, or null when neither option is given; {@code --token-file} is read here.
     *
     * @throws IllegalArgumentException naming the option (never the token) when the file cannot be
     *                                  read, or the token is not an RFC 6750 {@code b64token} (which
     *                                  also keeps line breaks out of the request head)
     */
    String token() {
        if (choice == null) {
            return null;
        }
        String token;
        String option;
        if (choice.value != null) {
            token = choice.value;
            option = "--token";
        } else {
            try {
                token = Files.readString(choice.file, StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw new IllegalArgumentException("--token-file: cannot read " + choice.file + ": " + e.getMessage());
            }
            option = "--token-file: " + choice.file;
        }
        if (!B64TOKEN.matcher(token).matches()) {
            throw new IllegalArgumentException(option + ": <hidden, " + token.length() + " characters> (expected: a bearer"
                    + " token as in RFC 6750, A-Z a-z 0-9 - . _ ~ + / then any '=', like admin.token)");
        }
        return token;
    }
}
