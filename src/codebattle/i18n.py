"""Korean and English UI text. The locale comes from the `lang` cookie (the user's choice),
else the browser's Accept-Language; Korean when neither says."""

from __future__ import annotations

from typing import Any

LOCALES = ("ko", "en")
DEFAULT_LOCALE = "ko"

MESSAGES: dict[str, dict[str, str]] = {
    # Errors a user can cause.
    "code_missing": {"en": "Send the code as text.", "ko": "코드를 텍스트로 보내 주세요."},
    "code_too_large": {
        "en": "The code is larger than {limit} KiB.",
        "ko": "코드가 {limit} KiB보다 큽니다.",
    },
    "code_empty": {"en": "The code is empty.", "ko": "코드가 비어 있습니다."},
    "code_binary": {
        "en": "The code contains binary data; send plain text.",
        "ko": "코드에 바이너리 데이터가 있습니다. 일반 텍스트로 보내 주세요.",
    },
    "input_missing": {"en": "Give an input to run with.", "ko": "실행할 입력을 넣어 주세요."},
    "input_too_large": {
        "en": "The input is larger than {limit} KiB.",
        "ko": "입력이 {limit} KiB보다 큽니다.",
    },
    "language_unknown": {
        "en": "Unknown language '{language}'. Choose python, cpp or java.",
        "ko": "알 수 없는 언어 '{language}'입니다. python, cpp, java 중에서 고르세요.",
    },
    "kind_unknown": {"en": "Unknown kind of run.", "ko": "알 수 없는 실행 종류입니다."},
    "problem_unknown": {"en": "No such problem.", "ko": "그런 문제가 없습니다."},
    "submission_unknown": {"en": "No such submission.", "ko": "그런 제출이 없습니다."},
    "token_unknown": {"en": "No such token.", "ko": "그런 토큰이 없습니다."},
    "too_many_tokens": {
        "en": "At most {limit} tokens; revoke one first.",
        "ko": "토큰은 {limit}개까지입니다. 먼저 하나를 폐기하세요.",
    },
    "rate_limited": {
        "en": "Too many submissions. Try again in {seconds} s.",
        "ko": "제출이 너무 많습니다. {seconds}초 후에 다시 시도하세요.",
    },
    "nickname_invalid": {
        "en": "A nickname is 2–20 letters, digits, _ or -.",
        "ko": "닉네임은 2~20자의 한글, 영문, 숫자, _ 또는 - 입니다.",
    },
    "nickname_taken": {"en": "That nickname is taken.", "ko": "이미 쓰이는 닉네임입니다."},
    "sign_in_required": {"en": "Sign in first.", "ko": "먼저 로그인하세요."},
    "csrf_failed": {
        "en": "The form expired. Reload the page and try again.",
        "ko": "폼이 만료되었습니다. 페이지를 새로 고친 뒤 다시 시도하세요.",
    },
    "nickname_sign_in_disabled": {
        "en": "Sign-in is not available yet: sign-in with Google, GitHub, Kakao or Naver is "
        "coming soon. Until then you can read the problems without an account.",
        "ko": "아직 로그인할 수 없습니다. Google·GitHub·카카오·네이버 로그인을 곧 열 예정입니다. "
        "그동안 문제는 로그인 없이 볼 수 있습니다.",
    },
    "nickname_sign_in_staff": {
        "en": "This account cannot sign in with a nickname: moderators, operators and admins "
        "use an API token (codebattle users token).",
        "ko": "이 계정은 닉네임으로 로그인할 수 없습니다. 모더레이터·운영자·관리자는 "
        "API 토큰(codebattle users token)을 씁니다.",
    },
    "bad_request": {"en": "The request is malformed.", "ko": "요청 형식이 잘못되었습니다."},
    "body_too_large": {
        "en": "The request body is larger than {limit} KiB.",
        "ko": "요청 본문이 {limit} KiB보다 큽니다.",
    },
    "not_found": {"en": "Page not found.", "ko": "페이지를 찾을 수 없습니다."},
    "method_not_allowed": {"en": "Method not allowed.", "ko": "허용되지 않는 요청입니다."},
    "server_error": {
        "en": "Something went wrong on our side. Please try again.",
        "ko": "서버에서 문제가 생겼습니다. 다시 시도해 주세요.",
    },
    # Page text.
    "site_name": {"en": "AI Code Battle", "ko": "AI 코드 배틀"},
    "nav_problems": {"en": "Problems", "ko": "문제"},
    "nav_settings": {"en": "Settings", "ko": "설정"},
    "sign_in": {"en": "Sign in", "ko": "로그인"},
    "sign_out": {"en": "Sign out", "ko": "로그아웃"},
    "nickname": {"en": "Nickname", "ko": "닉네임"},
    "sign_in_intro": {
        "en": "Development sign-in: pick a nickname. Staff accounts (moderators, operators, "
        "admins) cannot sign in this way.",
        "ko": "개발용 로그인: 닉네임을 정하세요. 운영진 계정(모더레이터·운영자·관리자)은 "
        "이 방법으로 로그인할 수 없습니다.",
    },
    "home_title": {
        "en": "Duel on programming problems, live.",
        "ko": "프로그래밍 문제로 실시간 대결하세요.",
    },
    "home_intro": {
        "en": "Practise any problem in Python, C++ or Java and watch every test pass.",
        "ko": "Python, C++, Java로 아무 문제나 연습하고 테스트가 하나씩 통과하는 걸 지켜보세요.",
    },
    "start_practice": {"en": "Start practising", "ko": "연습 시작"},
    "search": {"en": "Search", "ko": "검색"},
    "search_placeholder": {"en": "Name or tag", "ko": "이름 또는 태그"},
    "difficulty": {"en": "Difficulty", "ko": "난이도"},
    "all": {"en": "All", "ko": "전체"},
    "easy": {"en": "Easy", "ko": "쉬움"},
    "medium": {"en": "Medium", "ko": "보통"},
    "hard": {"en": "Hard", "ko": "어려움"},
    "tags": {"en": "Tags", "ko": "태그"},
    "solved": {"en": "Solved", "ko": "해결"},
    "no_problems": {"en": "No problem matches.", "ko": "맞는 문제가 없습니다."},
    "time_limit": {"en": "Time limit", "ko": "시간 제한"},
    "memory_limit": {"en": "Memory limit", "ko": "메모리 제한"},
    "sample": {"en": "Example", "ko": "예제"},
    "hidden_test_note": {
        "en": "Hidden test: its input and your program's output are not shown.",
        "ko": "비공개 테스트: 입력과 프로그램의 출력은 공개되지 않습니다.",
    },
    "input": {"en": "Input", "ko": "입력"},
    "output": {"en": "Output", "ko": "출력"},
    "language": {"en": "Language", "ko": "언어"},
    "run_samples": {"en": "Run examples", "ko": "예제 실행"},
    "run_custom": {"en": "Run with my input", "ko": "내 입력으로 실행"},
    "submit": {"en": "Submit", "ko": "제출"},
    "submit_hint": {"en": "Ctrl/⌘+Enter submits", "ko": "Ctrl/⌘+Enter로 제출"},
    "reset_template": {"en": "Reset code", "ko": "코드 초기화"},
    "custom_input": {"en": "My input", "ko": "내 입력"},
    "results": {"en": "Results", "ko": "결과"},
    "compile_output": {"en": "Compiler output", "ko": "컴파일 메시지"},
    "program_output": {"en": "Program output", "ko": "프로그램 출력"},
    "history": {"en": "My submissions", "ko": "내 제출"},
    "no_history": {"en": "No submissions yet.", "ko": "아직 제출이 없습니다."},
    "status_queued": {"en": "Queued", "ko": "대기 중"},
    "status_running": {"en": "Judging", "ko": "채점 중"},
    "status_done": {"en": "Done", "ko": "완료"},
    "test": {"en": "Test", "ko": "테스트"},
    "verdict": {"en": "Verdict", "ko": "결과"},
    "time": {"en": "Time", "ko": "시간"},
    "memory": {"en": "Memory", "ko": "메모리"},
    "when": {"en": "When", "ko": "시각"},
    "code": {"en": "Code", "ko": "코드"},
    "passed_of": {
        "en": "{passed} of {total} tests passed",
        "ko": "테스트 {total}개 중 {passed}개 통과",
    },
    "v_AC": {"en": "Accepted", "ko": "맞았습니다"},
    "v_WA": {"en": "Wrong answer", "ko": "틀렸습니다"},
    "v_TLE": {"en": "Time limit exceeded", "ko": "시간 초과"},
    "v_MLE": {"en": "Memory limit exceeded", "ko": "메모리 초과"},
    "v_RE": {"en": "Run-time error", "ko": "런타임 에러"},
    "v_OLE": {"en": "Output limit exceeded", "ko": "출력 초과"},
    "v_CE": {"en": "Compile error", "ko": "컴파일 에러"},
    "v_IE": {"en": "Judge error (not your fault)", "ko": "채점 오류 (사용자 잘못 아님)"},
    "v_OK": {"en": "Ran", "ko": "실행됨"},
    "settings_title": {"en": "Settings", "ko": "설정"},
    "ui_language": {"en": "Interface language", "ko": "화면 언어"},
    "save": {"en": "Save", "ko": "저장"},
    "api_tokens": {"en": "Personal API tokens", "ko": "개인 API 토큰"},
    "api_tokens_intro": {
        "en": "Use a token as 'Authorization: Bearer <token>' with the API at /api.",
        "ko": "/api 에서 'Authorization: Bearer <토큰>' 형식으로 사용하세요.",
    },
    "token_name": {"en": "Token name", "ko": "토큰 이름"},
    "create_token": {"en": "Create token", "ko": "토큰 만들기"},
    "revoke": {"en": "Revoke", "ko": "폐기"},
    "token_created": {
        "en": "Copy your new token now; it is shown only once:",
        "ko": "새 토큰을 지금 복사하세요. 한 번만 보여 드립니다:",
    },
    "no_tokens": {"en": "No tokens.", "ko": "토큰이 없습니다."},
    "created": {"en": "Created", "ko": "생성"},
    "last_used": {"en": "Last used", "ko": "마지막 사용"},
    "never": {"en": "never", "ko": "없음"},
    "back_to_problem": {"en": "Back to the problem", "ko": "문제로 돌아가기"},
    "submission": {"en": "Submission", "ko": "제출"},
    "connection_lost": {
        "en": "Live updates interrupted; reconnecting…",
        "ko": "실시간 연결이 끊겼습니다. 다시 연결하는 중…",
    },
    # Battles: errors on the match socket and API.
    "match_unknown": {"en": "No such match.", "ko": "그런 대결이 없습니다."},
    "match_not_running": {
        "en": "The game is not running.",
        "ko": "진행 중인 대결이 아닙니다.",
    },
    "match_not_over": {
        "en": "The replay opens when the game is over.",
        "ko": "리플레이는 대결이 끝난 뒤에 볼 수 있습니다.",
    },
    "replay_cursor_bad": {
        "en": "Unknown replay page: pass the `next` value of the previous page as `after`.",
        "ko": "알 수 없는 리플레이 페이지입니다. 이전 페이지의 `next` 값을 `after`로 보내 주세요.",
    },
    "match_started": {"en": "The game has already started.", "ko": "대결이 이미 시작됐습니다."},
    "match_over": {"en": "The game is over.", "ko": "대결이 끝났습니다."},
    "match_full": {"en": "The game is full.", "ko": "대결 인원이 다 찼습니다."},
    "match_not_finished": {
        "en": "A rematch is offered after the game.",
        "ko": "재대결은 대결이 끝난 뒤에 신청할 수 있습니다.",
    },
    "rematch_done": {
        "en": "The rematch has already been set up.",
        "ko": "재대결이 이미 만들어졌습니다.",
    },
    "already_joined": {"en": "You are already in this game.", "ko": "이미 참가한 대결입니다."},
    "already_in_match": {
        "en": "You are already in a game; finish it first.",
        "ko": "이미 진행 중인 대결이 있습니다. 먼저 끝내 주세요.",
    },
    "not_a_player": {
        "en": "Only the game's players can do that.",
        "ko": "대결 참가자만 할 수 있습니다.",
    },
    "gave_up": {"en": "You gave up this game.", "ko": "이 대결을 포기했습니다."},
    "bad_frame": {
        "en": "That message could not be read.",
        "ko": "메시지를 읽을 수 없습니다.",
    },
    "bad_event": {"en": "That action is malformed.", "ko": "잘못된 요청입니다."},
    "unknown_action": {"en": "Unknown action.", "ko": "알 수 없는 동작입니다."},
    "unknown_event": {"en": "Unknown action.", "ko": "알 수 없는 동작입니다."},
    "level_unknown": {
        "en": "Choose the AI's level: easy, medium or hard.",
        "ko": "AI 난이도를 고르세요: easy, medium, hard.",
    },
    "no_problems_for_match": {
        "en": "No problems are available for a game yet.",
        "ko": "아직 대결에 쓸 문제가 없습니다.",
    },
    "chat_empty": {"en": "The message is empty.", "ko": "메시지가 비어 있습니다."},
    "chat_too_long": {
        "en": "At most {limit} characters a message.",
        "ko": "메시지는 {limit}자까지입니다.",
    },
    "chat_rate_limited": {
        "en": "Too many messages. Try again in {seconds} s.",
        "ko": "메시지가 너무 많습니다. {seconds}초 후에 다시 시도하세요.",
    },
    "muted": {
        "en": "A moderator muted you in chat for now.",
        "ko": "운영자가 채팅을 일시 제한했습니다.",
    },
    "moderators_only": {"en": "Only moderators can do that.", "ko": "운영자만 할 수 있습니다."},
    "room_unknown": {"en": "No such room.", "ko": "그런 방이 없습니다."},
    "room_title_invalid": {
        "en": "Give the room a title of at most {limit} characters.",
        "ko": "방 제목을 {limit}자 이내로 정해 주세요.",
    },
    "room_problems_invalid": {
        "en": "Choose 1 to {limit} different problems.",
        "ko": "서로 다른 문제를 1개에서 {limit}개까지 고르세요.",
    },
    "room_duration_invalid": {
        "en": "The duration is 1 minute to 24 hours.",
        "ko": "진행 시간은 1분에서 24시간 사이입니다.",
    },
    "room_size_invalid": {
        "en": "A room holds 2 to {limit} players.",
        "ko": "방 인원은 2명에서 {limit}명까지입니다.",
    },
    "room_full": {"en": "The room is full ({limit}).", "ko": "방이 가득 찼습니다 ({limit}명)."},
    "room_code_wrong": {
        "en": "This room needs its invite code.",
        "ko": "이 방에 들어가려면 초대 코드가 필요합니다.",
    },
    "room_ended": {"en": "The room has ended.", "ko": "방이 종료됐습니다."},
    "room_started": {"en": "The room has already started.", "ko": "방이 이미 시작됐습니다."},
    "room_not_running": {"en": "The room is not running.", "ko": "진행 중인 방이 아닙니다."},
    "room_members_only": {
        "en": "Join the room to submit.",
        "ko": "제출하려면 먼저 방에 참가하세요.",
    },
    "host_only": {"en": "Only the room's host can do that.", "ko": "방장만 할 수 있습니다."},
    "role_unknown": {
        "en": "Unknown role; choose player, moderator, operator or admin.",
        "ko": "알 수 없는 역할입니다. player, moderator, operator, admin 중에서 고르세요.",
    },
    "user_unknown": {"en": "No such user.", "ko": "그런 사용자가 없습니다."},
    # Rooms.
    "rooms_title": {"en": "Rooms", "ko": "방"},
    "rooms_intro": {
        "en": "Many players, a few problems, one live leaderboard: a class, an event, a stream.",
        "ko": "여러 명이 같은 문제를 풀고 실시간 순위표로 겨룹니다. 수업, 행사, 방송에 좋아요.",
    },
    "nav_profile": {"en": "Profile", "ko": "프로필"},
    "rooms_join_code": {"en": "Join with an invite code", "ko": "초대 코드로 참가"},
    "rooms_code": {"en": "Invite code", "ko": "초대 코드"},
    "rooms_join": {"en": "Join", "ko": "참가"},
    "rooms_create": {"en": "Create a room", "ko": "방 만들기"},
    "rooms_name": {"en": "Title", "ko": "제목"},
    "rooms_problems": {"en": "Problems", "ko": "문제"},
    "rooms_minutes": {"en": "Minutes", "ko": "진행 시간(분)"},
    "rooms_size": {"en": "Players at most", "ko": "최대 인원"},
    "rooms_public": {
        "en": "Public (listed, anyone may join)",
        "ko": "공개 (목록에 표시, 누구나 참가)",
    },
    "rooms_public_list": {"en": "Public rooms", "ko": "공개 방"},
    "rooms_none": {"en": "No public rooms right now.", "ko": "지금은 공개 방이 없습니다."},
    "room_state_open": {"en": "Waiting to start", "ko": "시작 대기 중"},
    "room_state_running": {"en": "Running", "ko": "진행 중"},
    "room_state_ended": {"en": "Ended", "ko": "종료"},
    "room_start": {"en": "Start", "ko": "시작"},
    "room_end": {"en": "End now", "ko": "지금 종료"},
    "room_announce": {"en": "Announce", "ko": "공지"},
    "room_leaderboard": {"en": "Leaderboard", "ko": "순위표"},
    "room_player": {"en": "Player", "ko": "참가자"},
    "room_solved": {"en": "Solved", "ko": "해결"},
    "room_penalty": {"en": "Penalty", "ko": "패널티"},
    "room_minutes_short": {"en": "min", "ko": "분"},
    "room_submitting_for": {
        "en": "Your submissions count for the room “{title}”.",
        "ko": "제출이 방 “{title}”에 반영됩니다.",
    },
    "room_back": {"en": "Back to the room", "ko": "방으로 돌아가기"},
    # Profile.
    "profile_rating": {"en": "Rating", "ko": "레이팅"},
    "profile_rated_games": {"en": "Rated games", "ko": "레이팅 대결 수"},
    "profile_rating_history": {"en": "Rating over time", "ko": "레이팅 변화"},
    "profile_game": {"en": "Game", "ko": "대결"},
    "profile_change": {"en": "Change", "ko": "변화"},
    "profile_reason": {"en": "Why", "ko": "이유"},
    "profile_games": {"en": "Games", "ko": "대결 기록"},
    "profile_won": {"en": "won", "ko": "승리"},
    "profile_unrated": {"en": "unrated", "ko": "레이팅 미반영"},
    "profile_no_games": {"en": "No games yet.", "ko": "아직 대결 기록이 없습니다."},
    "provisional": {"en": "provisional", "ko": "배치 중"},
    "provisional_title": {
        "en": "A new player's rating: games against them count half",
        "ko": "새 참가자의 레이팅: 이 참가자와의 대결은 절반만 반영됩니다",
    },
    "provisional_left": {
        "en": "{games} more rated games until the rating settles",
        "ko": "레이팅이 자리 잡기까지 레이팅 대결 {games}판 남음",
    },
    "change_won": {"en": "Won", "ko": "승리"},
    "change_lost": {"en": "Lost", "ko": "패배"},
    "change_draw": {"en": "Draw", "ko": "무승부"},
    # Battle pages.
    "nav_play": {"en": "Play", "ko": "대결"},
    "lobby_title": {"en": "Play", "ko": "대결하기"},
    "lobby_intro": {
        "en": "Duel another player on a random problem, or warm up against the AI.",
        "ko": "무작위 문제로 다른 플레이어와 대결하거나 AI와 몸을 풀어 보세요.",
    },
    "ranked_match": {"en": "Ranked match", "ko": "랭크 대결"},
    "ranked_intro": {
        "en": "A rated duel against a player near your rating.",
        "ko": "레이팅이 비슷한 플레이어와 겨루는 공식 대결입니다.",
    },
    "queue_waiting": {"en": "Looking for an opponent…", "ko": "상대를 찾는 중…"},
    "queue_status": {
        "en": "Waiting {seconds} s · your rating {rating}, opponents within ±{window}",
        "ko": "{seconds}초째 대기 중 · 내 레이팅 {rating}, 상대 범위 ±{window}",
    },
    "leave_queue": {"en": "Leave queue", "ko": "대기열 나가기"},
    "play_ai_instead": {"en": "Play the AI instead", "ko": "대신 AI와 대결"},
    "play_ai": {"en": "Play vs AI", "ko": "AI와 대결"},
    "play_ai_intro": {
        "en": "An unrated game against the AI, at the level you choose.",
        "ko": "고른 난이도의 AI와 겨루는 비공식 대결입니다.",
    },
    "ai_level": {"en": "AI level", "ko": "AI 난이도"},
    "practice_title": {"en": "Practice", "ko": "연습"},
    "practice_intro": {
        "en": "Solve problems on your own, without a clock.",
        "ko": "시간 제한 없이 혼자 문제를 풀어 보세요.",
    },
    "live_games": {"en": "Live games", "ko": "진행 중인 대결"},
    "no_live_games": {"en": "No games right now.", "ko": "지금 진행 중인 대결이 없습니다."},
    "recent_games": {"en": "My recent games", "ko": "내 최근 대결"},
    "no_recent_games": {"en": "You have not played yet.", "ko": "아직 대결 기록이 없습니다."},
    "players": {"en": "Players", "ko": "참가자"},
    "player": {"en": "Player", "ko": "참가자"},
    "problem": {"en": "Problem", "ko": "문제"},
    "outcome": {"en": "Result", "ko": "결과"},
    "outcome_won": {"en": "Won", "ko": "승리"},
    "outcome_lost": {"en": "Lost", "ko": "패배"},
    "outcome_draw": {"en": "Draw", "ko": "무승부"},
    "outcome_cancelled": {"en": "Cancelled", "ko": "취소됨"},
    "outcome_playing": {"en": "In progress", "ko": "진행 중"},
    "back_to_game": {"en": "Back to the game", "ko": "대결로 돌아가기"},
    "replay": {"en": "Replay", "ko": "리플레이"},
    "vs": {"en": "vs", "ko": "vs"},
    "ai_badge": {"en": "AI", "ko": "AI"},
    "mode_ranked": {"en": "Ranked", "ko": "랭크"},
    "mode_ai": {"en": "vs AI", "ko": "AI 대결"},
    "unrated_short": {"en": "unrated", "ko": "비공식"},
    "unrated": {
        "en": "Unrated game: ratings do not change.",
        "ko": "비공식 대결이라 레이팅이 바뀌지 않습니다.",
    },
    "state_waiting": {"en": "Waiting for players", "ko": "참가자를 기다리는 중"},
    "state_countdown": {"en": "Starting", "ko": "곧 시작"},
    "state_running": {"en": "Running", "ko": "진행 중"},
    "state_judging": {
        "en": "Waiting for the last verdicts",
        "ko": "마지막 채점 결과를 기다리는 중",
    },
    "state_finished": {"en": "Finished", "ko": "종료"},
    "state_cancelled": {"en": "Cancelled", "ko": "취소됨"},
    "you": {"en": "you", "ko": "나"},
    "rating": {"en": "Rating", "ko": "레이팅"},
    "tests_passed": {"en": "tests passed", "ko": "테스트 통과"},
    "online": {"en": "online", "ko": "접속 중"},
    "offline": {"en": "offline", "ko": "연결 끊김"},
    "offline_grace": {
        "en": "{seconds} s left to come back",
        "ko": "{seconds}초 안에 돌아와야 합니다",
    },
    "typing": {"en": "typing…", "ko": "입력 중…"},
    "judging_progress": {"en": "judging: {done} tests", "ko": "채점 중: 테스트 {done}개"},
    "gave_up_badge": {"en": "gave up", "ko": "포기함"},
    "samples_hint": {
        "en": "examples do not count",
        "ko": "예제 실행은 점수에 들어가지 않습니다",
    },
    "give_up": {"en": "Give up", "ko": "포기하기"},
    "give_up_confirm": {
        "en": "Give up this game? You will lose it.",
        "ko": "이 대결을 포기할까요? 패배로 처리됩니다.",
    },
    "spectating": {
        "en": "You are watching this game. The players' code stays hidden until it ends.",
        "ko": "이 대결을 관전하고 있습니다. 참가자의 코드는 대결이 끝날 때까지 보이지 않습니다.",
    },
    # Why a page's socket was refused (docs/protocol.md); the page stops reconnecting.
    "socket_signed_out": {
        "en": "Live updates stopped: you are not signed in (or your session ended). "
        "Sign in again, then reload the page.",
        "ko": "실시간 업데이트가 멈췄습니다. 로그인되어 있지 않거나 세션이 끝났습니다. "
        "다시 로그인한 뒤 페이지를 새로 고치세요.",
    },
    "socket_foreign_origin": {
        "en": "Live updates were refused: this page was not opened from this site. "
        "Open the site's own address.",
        "ko": "실시간 업데이트가 거부되었습니다. 이 사이트에서 연 페이지가 아닙니다. "
        "사이트 주소로 직접 여세요.",
    },
    "socket_not_found": {
        "en": "Live updates stopped: this does not exist or is not open to you.",
        "ko": "실시간 업데이트가 멈췄습니다. 존재하지 않거나 볼 수 없는 항목입니다.",
    },
    "chat": {"en": "Chat", "ko": "채팅"},
    "chat_placeholder": {"en": "Say something nice", "ko": "메시지를 입력하세요"},
    "send": {"en": "Send", "ko": "보내기"},
    "channel_players": {"en": "players", "ko": "참가자"},
    "channel_spectators": {"en": "spectators", "ko": "관전자"},
    "match_log": {"en": "Game log", "ko": "대결 기록"},
    "you_won": {"en": "You won!", "ko": "승리했습니다!"},
    "you_lost": {"en": "You lost.", "ko": "패배했습니다."},
    "winner_is": {"en": "{name} wins", "ko": "{name} 승리"},
    "result_draw": {"en": "Draw", "ko": "무승부"},
    "match_cancelled": {"en": "The game was cancelled", "ko": "대결이 취소되었습니다"},
    "reason_solved": {"en": "passed every test", "ko": "모든 테스트 통과"},
    "reason_time": {
        "en": "ahead when time ran out",
        "ko": "시간이 끝났을 때 앞서 있었습니다",
    },
    "reason_gave_up": {"en": "the other player gave up", "ko": "상대가 포기했습니다"},
    "reason_disconnect": {"en": "the other player left", "ko": "상대가 나갔습니다"},
    "reason_draw": {"en": "level when time ran out", "ko": "시간이 끝났을 때 동점이었습니다"},
    "reason_abandoned": {"en": "everyone left", "ko": "모두 나갔습니다"},
    "reason_left": {
        "en": "a player left before the start; unrated",
        "ko": "시작 전에 참가자가 나가 레이팅에 반영되지 않습니다",
    },
    "rating_change": {
        "en": "{name}: {before} → {after} ({delta})",
        "ko": "{name}: {before} → {after} ({delta})",
    },
    "rating_weight": {"en": "counted ×{weight}", "ko": "×{weight}만 반영"},
    "weight_provisional": {"en": "new opponent", "ko": "새 상대"},
    "weight_repeat": {
        "en": "game {repeat} together in 24 h",
        "ko": "24시간 안에 {repeat}번째 대결",
    },
    "rematch": {"en": "Rematch", "ko": "재대결"},
    "rematch_waiting": {
        "en": "Rematch offered; waiting for the other player.",
        "ko": "재대결을 신청했습니다. 상대의 응답을 기다리는 중입니다.",
    },
    "rematch_offered": {"en": "{name} wants a rematch.", "ko": "{name} 님이 재대결을 원합니다."},
    "rematch_open": {"en": "Go to the rematch", "ko": "재대결로 이동"},
    "watch_replay": {"en": "Watch the replay", "ko": "리플레이 보기"},
    "ev_joined": {"en": "{name} joined", "ko": "{name} 님 참가"},
    "ev_ready": {"en": "{name} is ready", "ko": "{name} 님 준비 완료"},
    "ev_countdown": {"en": "Countdown started", "ko": "카운트다운 시작"},
    "ev_started": {"en": "The game started", "ko": "대결 시작"},
    "ev_submitted": {"en": "{name} submitted", "ko": "{name} 님 제출"},
    "ev_result": {
        "en": "{name}: {verdict} ({passed} tests passed)",
        "ko": "{name}: {verdict} (테스트 {passed}개 통과)",
    },
    "ev_gave_up": {"en": "{name} gave up", "ko": "{name} 님 포기"},
    "ev_disconnected": {"en": "{name} disconnected", "ko": "{name} 님 연결 끊김"},
    "ev_reconnected": {"en": "{name} is back", "ko": "{name} 님 다시 연결됨"},
    "ev_finished": {"en": "Game over", "ko": "대결 종료"},
    "ev_cancelled": {"en": "Game cancelled", "ko": "대결 취소"},
    "ev_rated": {"en": "Ratings updated", "ko": "레이팅 반영"},
    "ev_rematch_offered": {"en": "{name} offered a rematch", "ko": "{name} 님이 재대결 신청"},
    "ev_rematch_accepted": {"en": "{name} accepted the rematch", "ko": "{name} 님이 재대결 수락"},
    "ev_rematch_created": {"en": "The rematch is ready", "ko": "재대결이 준비되었습니다"},
    "ev_awaiting_verdicts": {
        "en": "Waiting for the verdicts of submissions made in time",
        "ko": "제한 시간 안에 낸 제출의 채점 결과를 기다리는 중",
    },
    "replay_play": {"en": "Play", "ko": "재생"},
    "replay_pause": {"en": "Pause", "ko": "일시 정지"},
    "no_code_yet": {"en": "(no code yet)", "ko": "(아직 코드 없음)"},
    "ai_code_hidden": {
        "en": "(the AI opponent's code is not shown)",
        "ko": "(AI 상대의 코드는 공개되지 않습니다)",
    },
    "code_missing_blob": {"en": "(code not available)", "ko": "(코드를 찾을 수 없음)"},
    "replay_loading": {"en": "Loading the code…", "ko": "코드를 불러오는 중…"},
    "replay_load_failed": {
        "en": "Part of the code could not be loaded; reload the page to try again.",
        "ko": "코드 일부를 불러오지 못했습니다. 페이지를 새로 고쳐 다시 시도하세요.",
    },
    "final_submissions": {"en": "Submissions", "ko": "제출 목록"},
    "error_title": {"en": "Something is not right", "ko": "문제가 있습니다"},
    "home": {"en": "Home", "ko": "홈"},
}


def translate(key: str, locale: str, **params: Any) -> str:
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(locale) or entry["en"]
    return text.format(**params) if params else text


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LOCALES:
        return cookie
    best, best_q = DEFAULT_LOCALE, -1.0
    for part in (accept_language or "").split(",")[:20]:
        tag, _, q = part.strip().partition(";q=")
        lang = tag.split("-")[0].strip().lower()
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        if lang in LOCALES and weight > best_q:
            best, best_q = lang, weight
    return best
